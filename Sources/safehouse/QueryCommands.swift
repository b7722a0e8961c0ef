import Flags
import FoundationEssentials
import Runtime

extension Commands {
    /// `list` (runc's alias `ps-all`): every container under the root.
    static func list(_ a: ParsedArguments) throws {
        let global = try GlobalSettings(a)
        let format = try tableOrJSON(a)
        let reports = try global.perform { $0.list() }
        if a.isSet("--quiet") {
            for r in reports { print(r.id) }
        } else if format == "json" {
            // runc's member order, and `null` for no containers (a nil Go slice).
            let listed = reports.map { r -> ContainerReport in
                var r = r
                if r.annotations?.isEmpty ?? false { r.annotations = nil }
                return r
            }
            print(listed.isEmpty ? "null" : try OrderedJSON.encode(listed))
        } else {
            print(Table.render(header: ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"],
                               rows: reports.map { [$0.id, String($0.pid), $0.status.rawValue, $0.bundle, $0.created, $0.owner] }))
        }
    }

    /// `--format` of `list` and `ps`, in runc's words when it is neither.
    static func tableOrJSON(_ a: ParsedArguments) throws -> String {
        let format = a.value("--format")
        guard format == "table" || format == "json" else {
            throw CLIError("--format: invalid format option \"\(format)\" (use table or json)")
        }
        return format
    }
}

/// A text table with columns padded like runc's tabwriter output.
enum Table {
    static func render(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        var widths = [Int](repeating: 0, count: header.count)
        for row in all { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        return all.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count + 3)
            }.joined()
        }.joined(separator: "\n")
    }
}
