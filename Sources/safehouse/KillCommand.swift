import Flags
import Linux
import Runtime

extension Commands {
    /// `kill ID [SIGNAL]`: the signal by name or number, refused inside the runtime's
    /// error handling (one line, the log's error record, exit 1) when unknown.
    static func kill(_ a: ParsedArguments) throws {
        let (id, signal) = (a.arguments[0], a.arguments[1])
        try GlobalSettings(a).perform { runtime in
            guard let sig = Linux.Signal(parsing: signal) else {
                throw RuntimeError("unknown signal \"\(signal)\"")
            }
            try runtime.kill(id: id, signal: sig, all: a.isSet("--all"))
        }
    }
}
