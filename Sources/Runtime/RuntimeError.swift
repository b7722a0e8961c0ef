import Linux

/// Everything the runtime refuses or fails at, as one line a user can act on.
///
/// The text names what and where (container id, field, path) and, for set-up steps
/// inside the container, the stage ("pivot_root", "sysctl net.ipv4.ip_forward"); the CLI
/// prints it verbatim and, with `--log-format json`, logs it as the last error record.
public struct RuntimeError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }

    public var description: String { message }

    /// Wraps any error with the container step it happened in.
    static func stage(_ stage: String, _ error: any Error) -> RuntimeError {
        RuntimeError("\(stage): \(error)")
    }

    static func containerNotFound(_ id: String) -> RuntimeError {
        RuntimeError("container \"\(id)\" does not exist")
    }

    /// A verb that needs a live container met a stopped one. The text carries runc's
    /// own words, "container not running": containerd's runc shim reads the runtime's
    /// error text and takes that phrase (like "does not exist" above) to mean the
    /// process is already gone, where anything else is an unknown failure that the
    /// CRI plugin retries forever.
    static func containerNotRunning(_ id: String) -> RuntimeError {
        RuntimeError("container \"\(id)\" is stopped: container not running")
    }
}

/// Runs `body`, prefixing any failure with the stage name.
/// The name is an autoclosure: it is built only when the step fails, since string
/// interpolation on every mount of every container start is measurable.
@inline(__always)
func stage<T>(_ name: @autoclosure () -> String, _ body: () throws -> T) throws -> T {
    do { return try body() } catch let e as RuntimeError {
        throw RuntimeError("\(name()): \(e.message)")
    } catch {
        throw RuntimeError.stage(name(), error)
    }
}
