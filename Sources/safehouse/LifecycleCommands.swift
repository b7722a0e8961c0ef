import Flags
import Runtime

extension CreateOptions {
    /// The flags `create` and `run` share (Verbs.createFlags).
    init(_ a: ParsedArguments) throws {
        self.init(bundle: a.value("--bundle"), pidFile: a.string("--pid-file"), consoleSocket: a.string("--console-socket"),
                  noPivot: a.isSet("--no-pivot"), noNewKeyring: a.isSet("--no-new-keyring"),
                  preserveFds: try a.integer("--preserve-fds") ?? 0)
    }
}

extension Commands {
    /// `run`: detached, returns once the container started; otherwise exits with the
    /// container's status.
    static func runContainer(_ a: ParsedArguments) throws {
        let global = try GlobalSettings(a), options = try CreateOptions(a)
        let code = try global.perform {
            try $0.run(id: a.arguments[0], options: options, detach: a.isSet("--detach"), keep: a.isSet("--keep"),
                       subreaper: !a.isSet("--no-subreaper"))
        }
        if code != 0 { throw ExitCode(code) }
    }
}
