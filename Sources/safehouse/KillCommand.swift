import Flags
import Linux
import Runtime

struct Kill: Command {
    let global: GlobalSettings
    let all: Bool
    let id: String
    let signal: String

    init(_ a: ParsedArguments) throws {
        global = try GlobalSettings(a)
        all = a.isSet("--all")
        id = a.arguments[0]
        signal = a.arguments[1]
    }

    func run() throws {
        try global.perform { runtime in
            guard let sig = Linux.Signal(parsing: signal) else {
                throw RuntimeError("unknown signal \"\(signal)\"")
            }
            try runtime.kill(id: id, signal: sig, all: all)
        }
    }
}
