/// runsc's failures in runc's words.
///
/// Engines read the runtime's error text: containerd's runc shim takes "does not
/// exist" and "container not running" to mean the process is already gone (anything
/// else is an unknown failure the CRI plugin retries forever), Podman shows the
/// message. runsc says the same things differently; this maps what it says, keeps
/// anything else verbatim, and prefixes the runsc command so the user knows which
/// backend spoke. runsc exits 128 on every failure; safehouse exits 1, as runc.
import ContainerCore
public enum RunscError {
    /// The one-line error for a failed `runsc VERB` on container `id`, from the last
    /// non-empty line runsc wrote on stderr (or its log).
    public static func message(verb: String, id: String, runscText: String) -> RuntimeError {
        let line = lastLine(runscText)
        if line.contains("file does not exist") || line.contains("no such container") {
            return RuntimeError.containerNotFound(id)
        }
        if line.contains("is not running") || line.contains("not running") || line.contains("container is stopped") {
            return RuntimeError.containerNotRunning(id)
        }
        if line.isEmpty { return RuntimeError("gvisor: runsc \(verb) \(id) failed") }
        return RuntimeError("gvisor: runsc \(verb) \(id): \(line)")
    }

    static func lastLine(_ text: String) -> String {
        text.split(separator: "\n").last { !$0.allSatisfy { $0 == " " } }.map(String.init) ?? ""
    }
}
