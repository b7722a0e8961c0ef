import Flags
import Linux
#if canImport(Glibc)
import Glibc
#endif

/// A verb served by an executable of its own next to this binary (`safehouse serve`
/// execs safehouse-serve, `safehouse mcp` safehouse-mcp): it gets the arguments, the
/// verb first; `--help` is answered here, from the verb's declaration.
enum SiblingCommand {
    static func exec(_ executable: String, verb: Verb, _ arguments: [String]) -> Never {
        let name = arguments.first ?? verb.path
        if arguments.dropFirst().contains(where: { $0 == "-h" || $0 == "--help" }) {
            print(HelpText.verb(verb), terminator: "")
            exit(0)
        }
        guard let exe = Processes.siblingExecutable(executable) else {
            writeStderr("safehouse: \(name): no \(executable) next to safehouse\n")
            exit(1)
        }
        var cArgs: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        execv(exe, &cArgs)
        writeStderr("safehouse: \(name): exec \(exe): \(String(cString: strerror(errno)))\n")
        exit(1)
    }
}
