import Flags
import Linux
#if canImport(Glibc)
import Glibc
#endif

/// `safehouse serve`: execs safehouse-serve (next to this binary) with the arguments;
/// `--help` is answered here, from the verb's declaration.
enum ServeCommand {
    static func exec(_ arguments: [String]) -> Never {
        if arguments.dropFirst().contains(where: { $0 == "-h" || $0 == "--help" }) {
            print(HelpText.verb(Verbs.serve), terminator: "")
            exit(0)
        }
        guard let exe = Processes.siblingExecutable("safehouse-serve") else {
            writeLine("safehouse: serve: no safehouse-serve next to safehouse", to: 2)
            exit(1)
        }
        var cArgs: [UnsafeMutablePointer<CChar>?] = (["safehouse-serve"] + arguments).map { strdup($0) } + [nil]
        execv(exe, &cArgs)
        writeLine("safehouse: serve: exec \(exe): \(String(cString: strerror(errno)))", to: 2)
        exit(1)
    }
}
