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

struct Run: Command {
    let global: GlobalSettings
    let options: CreateOptions
    let detach: Bool
    let keep: Bool
    let noSubreaper: Bool
    let id: String

    init(_ a: ParsedArguments) throws {
        global = try GlobalSettings(a)
        options = try CreateOptions(a)
        detach = a.isSet("--detach")
        keep = a.isSet("--keep")
        noSubreaper = a.isSet("--no-subreaper")
        id = a.arguments[0]
    }

    func run() throws {
        let code = try global.perform {
            try $0.run(id: id, options: options, detach: detach, keep: keep, subreaper: !noSubreaper)
        }
        if code != 0 { throw ExitCode(code) }
    }
}
