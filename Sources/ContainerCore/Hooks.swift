import Linux
import OCI
#if canImport(Glibc)
import Glibc
#endif

/// The six hook kinds of the runtime spec, in the order a container meets them.
package enum HookKind: String, CaseIterable {
    case prestart, createRuntime, createContainer, startContainer, poststart, poststop

    package func hooks(in hooks: Hooks?) -> [Hook] {
        guard let h = hooks else { return [] }
        switch self {
        case .prestart: return h.prestart ?? []
        case .createRuntime: return h.createRuntime ?? []
        case .createContainer: return h.createContainer ?? []
        case .startContainer: return h.startContainer ?? []
        case .poststart: return h.poststart ?? []
        case .poststop: return h.poststop ?? []
        }
    }
}

package enum HookRunner {
    /// Runs every hook of `kind` in order, each with the container state on stdin.
    /// The first failure stops the rest and is thrown, naming the hook. The text keeps
    /// runc's "error running hook #N" (engines and scripts grep for it) and adds the
    /// kind and the path.
    package static func run(_ kind: HookKind, of hooks: Hooks?, state: String) throws {
        for (index, hook) in kind.hooks(in: hooks).enumerated() {
            try stage("error running hook #\(index) (hooks.\(kind.rawValue)[\(index)], \(hook.path))") { try run(hook, state: state) }
        }
    }

    /// Fork, exec, feed the state, wait: with the hook's timeout, after which it is killed.
    package static func run(_ hook: Hook, state: String) throws {
        let (readEnd, writeEnd) = try FileDescriptor.pipe()
        let args = (hook.args?.isEmpty ?? true) ? [hook.path] : hook.args!
        let pid = try Processes.fork()
        if pid == 0 {
            // Child: stdin from the pipe; stdout/stderr as the runtime's.
            _ = dup2(readEnd.rawValue, 0)
            Signals.resetForExec()
            let err = Processes.exec(path: hook.path, args: args, env: hook.env ?? [])
            let text = "\(err)\n"
            _ = text.withCString { Glibc.write(2, $0, strlen($0)) }
            _exit(127)
        }
        readEnd.close()
        // A hook that does not read its stdin must not block or kill us (EPIPE).
        let oldPipe = signal(SIGPIPE, SIG_IGN)
        try? writeEnd.write(state)
        writeEnd.close()
        signal(SIGPIPE, oldPipe)

        if let timeout = hook.timeout, timeout > 0 {
            if !Processes.waitForExit(pid, timeout: Double(timeout)) {
                _ = Glibc.kill(pid, SIGKILL)
                _ = try? Processes.wait(pid)
                throw RuntimeError("timed out after \(timeout)s")
            }
        }
        let status = try Processes.wait(pid)
        switch status {
        case .exited(0): return
        case .exited(let code): throw RuntimeError("exit status \(code)")
        case .signaled(let sig): throw RuntimeError("killed by \(Signal(sig))")
        }
    }
}
