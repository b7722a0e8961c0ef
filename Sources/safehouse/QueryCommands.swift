import Flags
import FoundationEssentials
import Runtime

struct List: Command {
    let global: GlobalSettings
    let format: String
    let quiet: Bool

    init(_ a: ParsedArguments) throws {
        global = try GlobalSettings(a)
        format = a.value("--format")
        quiet = a.isSet("--quiet")
        guard format == "table" || format == "json" else {
            // runc's words: "invalid format option".
            throw CLIError("--format: invalid format option \"\(format)\" (use table or json)")
        }
    }

    func run() throws {
        let reports = try global.perform { $0.list() }
        if quiet {
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
