fn main() -> std::process::ExitCode {
    ember::cli::main()
}
