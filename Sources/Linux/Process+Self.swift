#if canImport(Glibc)
import Glibc
#endif

/// What a process does to itself between fork and exec (the container's init and the
/// process between it and the runtime): its session, its umask, its last words and
/// its exit.
extension Processes {
    /// setsid(2): the process leads a new session (and can own a terminal); an error
    /// (it leads a process group already) changes nothing.
    public static func startSession() {
        _ = setsid()
    }

    /// umask(2); returns the previous mask.
    @discardableResult
    public static func setUmask(_ mask: UInt32) -> UInt32 {
        umask(mode_t(mask))
    }

    /// _exit(2): no atexit handlers, no buffered output flushed (a forked child
    /// shares them with its parent).
    public static func exitImmediately(_ status: Int32) -> Never {
        _exit(status)
    }

    /// Writes `text` to descriptor 2 in one write(2), unbuffered.
    public static func writeToStandardError(_ text: String) {
        _ = text.withCString { Glibc.write(2, $0, strlen($0)) }
    }
}

extension Files {
    /// unlink(2) of a file or link, whatever the outcome (making room for a new link;
    /// a directory stays).
    public static func unlinkIfPresent(_ path: String) {
        _ = unlink(path)
    }

    /// `path` with its symlinks resolved (realpath(3)), or nil if it cannot be.
    public static func realPath(_ path: String) -> String? {
        guard let real = realpath(path, nil) else { return nil }
        defer { free(real) }
        return String(cString: real)
    }
}

extension FileDescriptor {
    /// A directory opened for reading (to fchdir to it, or to hold it).
    public static func openDirectory(_ path: String) throws -> FileDescriptor {
        try open(path, O_DIRECTORY | O_RDONLY)
    }
}
