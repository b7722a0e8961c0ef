import ContainerCore
import Linux
#if canImport(Glibc)
import Glibc
#endif

/// A program the runtime runs to its end (ip, nft, cp, `safehouse-warden --make-ca`):
/// `input` on its stdin (else /dev/null), its stdout kept when asked (else
/// /dev/null), its stderr kept for the message of a failure. Called while
/// single-threaded (create), so fork is safe.
enum HelperProcess {
    static let searchPath = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]

    /// How it ended, what it wrote to stdout (when kept) and the first line of its stderr.
    static func run(_ path: String, _ args: [String], input: String? = nil,
                    keepOutput: Bool = false) throws -> (status: ExitStatus, output: [UInt8], errorLine: String?) {
        let stdin = try input.map { _ in try FileDescriptor.pipe() }
        let stdout = keepOutput ? try FileDescriptor.pipe() : nil
        let (errRead, errWrite) = try FileDescriptor.pipe()
        let pid = try Processes.fork()
        if pid == 0 {
            let null = open("/dev/null", O_RDWR)
            _ = dup2(stdin?.0.rawValue ?? null, 0)
            _ = dup2(stdout?.1.rawValue ?? null, 1)
            _ = dup2(errWrite.rawValue, 2)
            Signals.resetForExec()
            _ = Processes.exec(path: path, args: args, env: searchPath)
            _exit(127)
        }
        stdin?.0.close()
        stdout?.1.close()
        errWrite.close()
        if let input, let write = stdin?.1 {
            let oldPipe = signal(SIGPIPE, SIG_IGN)
            try? write.write(input)
            write.close()
            signal(SIGPIPE, oldPipe)
        }
        let output = (try? stdout?.0.readAll(limit: 64 << 10)) ?? []
        stdout?.0.close()
        let errors = (try? errRead.readAll(limit: 64 << 10)) ?? []
        errRead.close()
        let status = try Processes.wait(pid)
        return (status, output, String(decoding: errors, as: UTF8.self).split(separator: "\n").first.map(String.init))
    }
}
