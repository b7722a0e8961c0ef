import Linux

/// Why a seccomp filter could not be compiled, loaded or handed to its listener.
///
/// The description is one line that starts with the field of config.json at fault
/// (`linux.seccomp.syscalls[3].action: ...`), so it can reach the user verbatim.
public struct SeccompError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong, broadly.
    public enum Kind: Sendable, Equatable {
        /// A value the runtime cannot use (unknown name, invalid combination).
        case invalid
        /// A valid value this kernel or libseccomp does not support.
        case unsupported
        /// libseccomp refused a call while compiling.
        case library
        /// A system call failed while loading the filter or passing the notify fd.
        case system
    }

    /// What went wrong, broadly.
    public let kind: Kind
    /// The path of the offending field, e.g. `linux.seccomp.flags[0]`.
    public let field: String
    /// What is wrong with it, written to be read after the field name.
    public let message: String
    /// The failed system call, when there was one.
    public let cause: SystemError?

    /// Creates an error about `field`.
    public init(_ kind: Kind, field: String, message: String, cause: SystemError? = nil) {
        self.kind = kind
        self.field = field
        self.message = message
        self.cause = cause
    }

    public var description: String {
        if let cause { return "\(field): \(message): \(cause)" }
        return "\(field): \(message)"
    }

    /// A libseccomp call that returned `-errno`.
    static func library(_ call: String, field: String, message: String, result: Int32) -> SeccompError {
        SeccompError(.library, field: field, message: message, cause: SystemError(call: call, errno: -result))
    }
}
