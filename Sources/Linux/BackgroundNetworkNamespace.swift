import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// A new network namespace, made by a helper task while the caller goes on.
///
/// `create` starts it as soon as the spec is known: unshare(CLONE_NEWNET) is 0.4-1 ms of
/// kernel work here, done on the second core while the runtime forks the init and
/// makes its cgroups. The helper is not a thread (see sh_netns_maker_start in shim.c):
/// the init may be forked while it works. `take` waits for it and reaps it. Dropped
/// without `take`, it is reaped and the namespace closed.
public final class BackgroundNetworkNamespace {
    private var maker: OpaquePointer?

    private init(_ maker: OpaquePointer) { self.maker = maker }

    /// Starts making the namespace; nil if no helper could be started (the caller
    /// makes it itself: Namespaces.makeDetached).
    public static func start() -> BackgroundNetworkNamespace? {
        sh_netns_maker_start().map(BackgroundNetworkNamespace.init)
    }

    /// The namespace: waits for the helper if it is not done yet. Once only.
    public func take() throws -> FileDescriptor {
        guard let maker else { throw SystemError(call: "unshare", path: "network namespace", errno: EBADF) }
        self.maker = nil
        let fd = sh_netns_maker_finish(maker)
        if fd < 0 { throw SystemError(call: "unshare", path: "network namespace", errno: errno) }
        return FileDescriptor(adopting: fd)
    }

    /// In a forked child this does nothing: the helper is not the child's to reap.
    deinit {
        if let maker {
            let fd = sh_netns_maker_finish(maker)
            if fd >= 0 { _ = Glibc.close(fd) }
        }
    }
}
