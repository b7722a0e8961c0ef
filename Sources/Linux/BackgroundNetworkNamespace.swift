import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// A new network namespace, made on a thread of its own while the caller goes on.
///
/// `create` starts it as soon as the spec is known: unshare(CLONE_NEWNET) is 0.35-0.45 ms
/// of kernel work here, done on the second core during the runtime's own work before
/// the fork, instead of after the fork, where it held back the cgroup directories the
/// container's init waits for. `take` joins the thread; it must be called before any
/// raw fork (see sh_netns_maker_start in shim.c). Dropped without `take`, the thread is
/// joined and the namespace closed.
public final class BackgroundNetworkNamespace {
    private var maker: OpaquePointer?

    private init(_ maker: OpaquePointer) { self.maker = maker }

    /// Starts making the namespace; nil if no thread could be started (the caller
    /// makes it itself: Namespaces.makeDetached).
    public static func start() -> BackgroundNetworkNamespace? {
        sh_netns_maker_start().map(BackgroundNetworkNamespace.init)
    }

    /// The namespace: joins the thread (waiting for it if it is not done yet). Once only.
    public func take() throws -> FileDescriptor {
        guard let maker else { throw SystemError(call: "unshare", path: "network namespace", errno: EBADF) }
        self.maker = nil
        let fd = sh_netns_maker_finish(maker)
        if fd < 0 { throw SystemError(call: "unshare", path: "network namespace", errno: errno) }
        return FileDescriptor(adopting: fd)
    }

    /// In a forked child (which must not happen while the thread lives) this does
    /// nothing: the thread is not the child's to join.
    deinit {
        if let maker {
            let fd = sh_netns_maker_finish(maker)
            if fd >= 0 { _ = Glibc.close(fd) }
        }
    }
}
