import ArgumentParser
import FoundationEssentials
import Runtime

struct Ps: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the processes of a container (table from the host's ps, or json pids).")
    @OptionGroup var global: GlobalOptions
    @Option(name: [.customShort("f"), .long], help: "Output format: table or json.")
    var format: String = "table"
    @Argument(help: "The container id.") var id: String
    @Argument(parsing: .captureForPassthrough, help: "Arguments for ps (default -ef).") var psArguments: [String] = []

    func validate() throws {
        guard format == "table" || format == "json" else {
            throw ValidationError("--format: unknown format \"\(format)\" (use table or json)")
        }
    }

    func run() throws {
        let args = psArguments.first == "--" ? Array(psArguments.dropFirst()) : psArguments
        if format == "json" {
            let pids = try global.perform { try $0.processIDs(id: id) }
            print(String(decoding: try JSONEncoder().encode(pids), as: UTF8.self))
        } else {
            print(try global.perform { try $0.processTable(id: id, psArguments: args) })
        }
    }
}
