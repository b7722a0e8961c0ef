import Flags
import FoundationEssentials
import Runtime

struct Ps: Command {
    let global: GlobalSettings
    let format: String
    let id: String
    let psArguments: [String]

    init(_ a: ParsedArguments) throws {
        global = try GlobalSettings(a)
        format = a.value("--format")
        id = a.arguments[0]
        psArguments = a.trailing
        guard format == "table" || format == "json" else {
            // runc's words: "invalid format option".
            throw CLIError("--format: invalid format option \"\(format)\" (use table or json)")
        }
    }

    func run() throws {
        let args = psArguments.first == "--" ? Array(psArguments.dropFirst()) : psArguments
        if format == "json" {
            let pids = try global.perform { try $0.processIDs(id: id) }
            // No processes (a stopped container): `null`, as runc writes its nil slice.
            print(pids.isEmpty ? "null" : String(decoding: try JSONEncoder().encode(pids), as: UTF8.self))
        } else {
            print(try global.perform { try $0.processTable(id: id, psArguments: args) })
        }
    }
}
