//! pprof: a gzipped protobuf `Profile` message (github.com/google/pprof, proto/profile.proto),
//! as `go tool pprof`, Pyroscope and Parca read it. The message types are written by hand with
//! prost's derive (no build script, no protoc); field numbers follow profile.proto.
//!
//! One pprof sample per distinct (stack, thread) with two values: the sample count and wall
//! nanoseconds; labels carry the thread and process. One location per frame (function + line),
//! one function per Python function (name, file, first line).

use super::collapsed::stack_counts;
use crate::profile::model::*;
use flate2::write::GzEncoder;
use prost::Message;
use std::collections::HashMap;
use std::io::Write;

#[derive(Clone, PartialEq, Message)]
pub struct PProfile {
    #[prost(message, repeated, tag = "1")]
    pub sample_type: Vec<ValueType>,
    #[prost(message, repeated, tag = "2")]
    pub sample: Vec<Sample>,
    #[prost(message, repeated, tag = "3")]
    pub mapping: Vec<Mapping>,
    #[prost(message, repeated, tag = "4")]
    pub location: Vec<Location>,
    #[prost(message, repeated, tag = "5")]
    pub function: Vec<Function>,
    #[prost(string, repeated, tag = "6")]
    pub string_table: Vec<String>,
    #[prost(int64, tag = "7")]
    pub drop_frames: i64,
    #[prost(int64, tag = "8")]
    pub keep_frames: i64,
    #[prost(int64, tag = "9")]
    pub time_nanos: i64,
    #[prost(int64, tag = "10")]
    pub duration_nanos: i64,
    #[prost(message, optional, tag = "11")]
    pub period_type: Option<ValueType>,
    #[prost(int64, tag = "12")]
    pub period: i64,
    #[prost(int64, repeated, tag = "13")]
    pub comment: Vec<i64>,
    #[prost(int64, tag = "14")]
    pub default_sample_type: i64,
}

#[derive(Clone, PartialEq, Message)]
pub struct ValueType {
    #[prost(int64, tag = "1")]
    pub r#type: i64,
    #[prost(int64, tag = "2")]
    pub unit: i64,
}

#[derive(Clone, PartialEq, Message)]
pub struct Sample {
    /// Leaf first.
    #[prost(uint64, repeated, tag = "1")]
    pub location_id: Vec<u64>,
    #[prost(int64, repeated, tag = "2")]
    pub value: Vec<i64>,
    #[prost(message, repeated, tag = "3")]
    pub label: Vec<Label>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Label {
    #[prost(int64, tag = "1")]
    pub key: i64,
    #[prost(int64, tag = "2")]
    pub str: i64,
    #[prost(int64, tag = "3")]
    pub num: i64,
    #[prost(int64, tag = "4")]
    pub num_unit: i64,
}

#[derive(Clone, PartialEq, Message)]
pub struct Mapping {
    #[prost(uint64, tag = "1")]
    pub id: u64,
    #[prost(uint64, tag = "2")]
    pub memory_start: u64,
    #[prost(uint64, tag = "3")]
    pub memory_limit: u64,
    #[prost(uint64, tag = "4")]
    pub file_offset: u64,
    #[prost(int64, tag = "5")]
    pub filename: i64,
    #[prost(int64, tag = "6")]
    pub build_id: i64,
    #[prost(bool, tag = "7")]
    pub has_functions: bool,
    #[prost(bool, tag = "8")]
    pub has_filenames: bool,
    #[prost(bool, tag = "9")]
    pub has_line_numbers: bool,
    #[prost(bool, tag = "10")]
    pub has_inline_frames: bool,
}

#[derive(Clone, PartialEq, Message)]
pub struct Location {
    #[prost(uint64, tag = "1")]
    pub id: u64,
    #[prost(uint64, tag = "2")]
    pub mapping_id: u64,
    #[prost(uint64, tag = "3")]
    pub address: u64,
    #[prost(message, repeated, tag = "4")]
    pub line: Vec<Line>,
    #[prost(bool, tag = "5")]
    pub is_folded: bool,
}

#[derive(Clone, PartialEq, Message)]
pub struct Line {
    #[prost(uint64, tag = "1")]
    pub function_id: u64,
    #[prost(int64, tag = "2")]
    pub line: i64,
}

#[derive(Clone, PartialEq, Message)]
pub struct Function {
    #[prost(uint64, tag = "1")]
    pub id: u64,
    #[prost(int64, tag = "2")]
    pub name: i64,
    #[prost(int64, tag = "3")]
    pub system_name: i64,
    #[prost(int64, tag = "4")]
    pub filename: i64,
    #[prost(int64, tag = "5")]
    pub start_line: i64,
}

/// pprof's string table: index 0 is "".
#[derive(Default)]
struct Strings {
    table: Vec<String>,
    index: HashMap<String, i64>,
}

impl Strings {
    fn new() -> Strings {
        let mut s = Strings::default();
        s.id("");
        s
    }
    fn id(&mut self, s: &str) -> i64 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.table.len() as i64;
        self.table.push(s.to_string());
        self.index.insert(s.to_string(), i);
        i
    }
}

/// Builds the pprof message for `p`.
pub fn build(p: &Profile) -> PProfile {
    let mut st = Strings::new();
    let interval_ns = (p.sample_seconds() * 1e9).round() as i64;
    let sample_type = vec![
        ValueType { r#type: st.id("samples"), unit: st.id("count") },
        ValueType { r#type: st.id("wall"), unit: st.id("nanoseconds") },
    ];
    let mapping = vec![Mapping {
        id: 1,
        filename: st.id(p.meta.command_line.first().map(String::as_str).unwrap_or("python")),
        has_functions: true,
        has_filenames: true,
        has_line_numbers: true,
        ..Default::default()
    }];
    // Locations and functions only for what samples use; ids start at 1 (0 is invalid).
    let mut loc_id: HashMap<FrameId, u64> = HashMap::new();
    let mut fn_id: HashMap<FuncId, u64> = HashMap::new();
    let mut locations = Vec::new();
    let mut functions = Vec::new();
    let (k_thread, k_tid, k_pid) = (st.id("thread"), st.id("thread id"), st.id("pid"));
    let mut samples = Vec::new();
    for ((t, stack), count) in stack_counts(p) {
        let mut ids = Vec::new();
        for f in p.stack_frames(stack) {
            let id = match loc_id.get(&f) {
                Some(&id) => id,
                None => {
                    let fr = p.frames[f as usize];
                    let fid = *fn_id.entry(fr.func).or_insert_with(|| {
                        let func = p.functions[fr.func as usize];
                        let name = st.id(p.str(func.name));
                        functions.push(Function {
                            id: functions.len() as u64 + 1,
                            name,
                            system_name: name,
                            filename: st.id(p.str(func.file)),
                            start_line: func.first_line as i64,
                        });
                        functions.len() as u64
                    });
                    locations.push(Location {
                        id: locations.len() as u64 + 1,
                        mapping_id: 1,
                        address: 0,
                        line: vec![Line { function_id: fid, line: fr.line as i64 }],
                        is_folded: false,
                    });
                    let id = locations.len() as u64;
                    loc_id.insert(f, id);
                    id
                }
            };
            ids.push(id);
        }
        let th = &p.threads[t as usize];
        let mut label = vec![
            Label { key: k_tid, num: th.tid as i64, ..Default::default() },
            Label { key: k_pid, num: th.pid as i64, ..Default::default() },
        ];
        if !th.name.is_empty() {
            label.push(Label { key: k_thread, str: st.id(&th.name), ..Default::default() });
        }
        samples.push(Sample { location_id: ids, value: vec![count as i64, count as i64 * interval_ns], label });
    }
    let mut comment = Vec::new();
    if !p.meta.command_line.is_empty() {
        comment.push(st.id(&format!("command line: {}", p.meta.command_line.join(" "))));
    }
    if let Some(v) = &p.meta.python_version {
        comment.push(st.id(&format!("python {v}")));
    }
    let period_type = Some(ValueType { r#type: st.id("wall"), unit: st.id("nanoseconds") });
    // profile.proto: the string-table index of the preferred sample type's name.
    let default_sample_type = st.id("wall");
    PProfile {
        sample_type,
        sample: samples,
        mapping,
        location: locations,
        function: functions,
        drop_frames: 0,
        keep_frames: 0,
        time_nanos: (p.meta.start_unix_ms as i64).saturating_mul(1_000_000),
        duration_nanos: p.meta.duration_ns as i64,
        period_type,
        period: interval_ns,
        comment,
        default_sample_type,
        string_table: st.table,
    }
}

/// Writes gzipped pprof.
pub fn write<W: Write>(p: &Profile, w: W) -> anyhow::Result<()> {
    let bytes = build(p).encode_to_vec();
    let mut gz = GzEncoder::new(w, flate2::Compression::default());
    gz.write_all(&bytes)?;
    gz.finish()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn encodes_a_decodable_consistent_profile() {
        let p = crate::profile::synth::generate(&crate::profile::synth::Shape {
            samples: 20_000,
            stacks: 1_000,
            max_depth: 100,
            ..Default::default()
        });
        let mut gz = Vec::new();
        write(&p, &mut gz).unwrap();
        let mut raw = Vec::new();
        flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut raw).unwrap();
        let q = PProfile::decode(&raw[..]).unwrap();
        assert_eq!(q.string_table[0], "");
        assert_eq!(q.string_table[q.sample_type[0].r#type as usize], "samples");
        assert_eq!(q.string_table[q.sample_type[1].unit as usize], "nanoseconds");
        assert_eq!(q.string_table[q.default_sample_type as usize], "wall");
        let total: i64 = q.sample.iter().map(|s| s.value[0]).sum();
        assert_eq!(total, 20_000);
        assert!(q.sample.iter().all(|s| s.value.len() == q.sample_type.len() && s.value[1] == s.value[0] * q.period));
        let locs: HashMap<u64, &Location> = q.location.iter().map(|l| (l.id, l)).collect();
        let funcs: HashMap<u64, &Function> = q.function.iter().map(|f| (f.id, f)).collect();
        assert!(!locs.contains_key(&0) && !funcs.contains_key(&0));
        for s in &q.sample {
            for id in &s.location_id {
                let l = locs[id];
                assert_eq!(l.mapping_id, 1);
                let f = funcs[&l.line[0].function_id];
                assert!(q.string_table[f.filename as usize].ends_with(".py"));
                assert!(l.line[0].line > 0);
            }
        }
        // The first sample's leaf is the first sampled stack's leaf.
        let leaf = p.stack_frames(p.samples.stack[0]).next().unwrap();
        let fr = p.frames[leaf as usize];
        let l = locs[&q.sample[0].location_id[0]];
        assert_eq!(l.line[0].line, fr.line as i64);
        assert_eq!(q.string_table[funcs[&l.line[0].function_id].name as usize], p.str(p.functions[fr.func as usize].name));
    }
}
