#if canImport(Glibc)
import Glibc
#endif

/// An errno value with a readable name, for the failures callers tell apart (a path
/// the kernel lacks, a refusal) without reaching for Glibc's constants.
public struct Errno: RawRepresentable, Hashable, Sendable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// EPERM.
    public static let notPermitted = Errno(rawValue: EPERM)
    /// EACCES.
    public static let permissionDenied = Errno(rawValue: EACCES)
    /// ENOENT.
    public static let noSuchFileOrDirectory = Errno(rawValue: ENOENT)
    /// EEXIST.
    public static let fileExists = Errno(rawValue: EEXIST)
    /// ENOTDIR.
    public static let notDirectory = Errno(rawValue: ENOTDIR)
    /// EINVAL.
    public static let invalidArgument = Errno(rawValue: EINVAL)
    /// ELOOP: a symlink where none may be followed.
    public static let tooManySymbolicLinks = Errno(rawValue: ELOOP)
    /// EPIPE.
    public static let brokenPipe = Errno(rawValue: EPIPE)
    /// ECONNRESET.
    public static let connectionReset = Errno(rawValue: ECONNRESET)
}

extension SystemError {
    /// The errno, named.
    public var code: Errno { Errno(rawValue: errno) }
}
