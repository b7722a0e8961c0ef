import Flags
import FoundationEssentials
import Runtime

extension Commands {
    /// `ps ID [ps arguments]`: the container's processes, a table or their pids.
    static func ps(_ a: ParsedArguments) throws {
        let global = try GlobalSettings(a)
        let (format, id) = (try tableOrJSON(a), a.arguments[0])
        let args = a.trailing.first == "--" ? Array(a.trailing.dropFirst()) : a.trailing
        if format == "json" {
            let pids = try global.perform { try $0.processIDs(id: id) }
            // No processes (a stopped container): `null`, as runc writes its nil slice.
            print(pids.isEmpty ? "null" : String(decoding: try JSONEncoder().encode(pids), as: UTF8.self))
        } else {
            print(try global.perform { try $0.processTable(id: id, psArguments: args) })
        }
    }
}
