import Linux
import OCI

/// Everything the runtime refuses or fails at, as one line a user can act on.
///
/// The text names what and where (container id, field, path) and, for set-up steps
/// inside the container, the stage ("pivot_root", "sysctl net.ipv4.ip_forward"); the CLI
/// prints it verbatim and, with `--log-format json`, logs it as the last error record.
/// Code that must tell failures apart switches on `kind`, never on the text: the text
/// is for people and engines, and a stage prefix or a reworded cause must not change
/// what a caller decides.
public struct RuntimeError: Error, CustomStringConvertible, Sendable {
    /// What a caller may act on. Most failures are `.failed`; the others are the
    /// states engines treat specially (runc's words for them are in the messages).
    public enum Kind: Sendable, Equatable {
        /// No container by that id.
        case containerNotFound
        /// The container's processes are gone.
        case containerNotRunning
        /// The id is taken by another container.
        case containerExists
        /// The container's status does not allow the verb (ContainerStatus+Transitions).
        case refusedInStatus
        /// Anything else.
        case failed
    }

    public let kind: Kind
    public let message: String
    /// The error this one reports, when it wraps one (a system call's, a hook's, a
    /// cgroup's); its text is already part of `message`.
    public let cause: (any Error)?

    public init(_ message: String, kind: Kind = .failed, cause: (any Error)? = nil) {
        self.kind = kind
        self.message = message
        self.cause = cause
    }

    public var description: String { message }

    /// Wraps any error with the container step it happened in.
    @usableFromInline
    package static func stage(_ stage: String, _ error: any Error) -> RuntimeError {
        RuntimeError("\(stage): \(error)", kind: (error as? RuntimeError)?.kind ?? .failed, cause: error)
    }

    package static func containerNotFound(_ id: String) -> RuntimeError {
        RuntimeError("container \"\(id)\" does not exist", kind: .containerNotFound)
    }

    /// A verb that needs a live (or, for `pause`, an unfrozen) container met one in
    /// `status`. The text carries runc's own words, "container not running":
    /// containerd's runc shim reads the runtime's error text and takes that phrase
    /// (like "does not exist" above) to mean the process is already gone, where
    /// anything else is an unknown failure that the CRI plugin retries forever.
    package static func containerNotRunning(_ id: String, _ status: ContainerStatus = .stopped) -> RuntimeError {
        RuntimeError("container \"\(id)\" is \(status.rawValue): container not running", kind: .containerNotRunning)
    }

    /// A verb the container's status does not allow, in runc's words.
    package static func refused(_ message: String) -> RuntimeError {
        RuntimeError(message, kind: .refusedInStatus)
    }
}

/// Runs `body`, prefixing any failure with the stage name.
/// The name is an autoclosure: it is built only when the step fails, since string
/// interpolation on every mount of every container start is measurable. Inlinable: the
/// set-up steps that call it are in other targets, and a call per mount is not free either.
@inlinable @inline(__always)
package func stage<T>(_ name: @autoclosure () -> String, _ body: () throws -> T) throws -> T {
    do { return try body() } catch let e as RuntimeError {
        throw RuntimeError("\(name()): \(e.message)", kind: e.kind, cause: e)
    } catch {
        throw RuntimeError.stage(name(), error)
    }
}
