// Tracks the OCI runtime-spec v1.2.0 (config-linux.md "Seccomp", runtime.md "State").
//
// Handing the notify fd to the seccomp agent at `linux.seccomp.listenerPath`, as runc
// does: the child loads the filter and gives the fd to the runtime's parent (which still
// sees the host's filesystem), and the parent connects to the listener's SOCK_STREAM
// socket and sends one message whose payload is the container process state (JSON) and
// whose SCM_RIGHTS control message carries the fd.

import Linux
import OCI

extension SeccompProgram {
    /// Sends the notify `fd` to the seccomp agent listening at `listenerPath`, with
    /// `state` (the JSON from `containerProcessState`) as the message. `fd` stays
    /// open and owned by the caller, which should close it once sent: the agent's copy
    /// is what keeps notified calls waiting for an answer.
    ///
    /// runc's sample agent reads at most 4 KiB of state; keep `state` below that.
    public static func sendNotifyFD(_ fd: Int32, to listenerPath: String, state: [UInt8]) throws {
        let field = "linux.seccomp.listenerPath"
        let socket: FileDescriptor
        do {
            socket = try Sockets.connect(unixPath: listenerPath)
        } catch let error as SystemError {
            // runc's words (engines match on them), then the path.
            throw SeccompError(.system, field: field, message: "failed to connect with seccomp agent specified in the seccomp profile (\(listenerPath))", cause: error)
        }
        do {
            let borrowed = FileDescriptor(adopting: fd)
            defer { _ = borrowed.release() }
            try socket.sendDescriptor(borrowed, payload: state)
        } catch let error as SystemError {
            throw SeccompError(.system, field: field, message: "cannot send the seccomp notify fd to the listener at \(listenerPath)", cause: error)
        }
    }

    /// The OCI "container process state" runc sends with the notify fd:
    /// `{"ociVersion","fds":["seccompFd"],"pid","metadata","state"}`, where `pid` is the
    /// process that loaded the filter, `metadata` is `linux.seccomp.listenerMetadata`
    /// (omitted when empty) and `stateJSON` is the container's state document (runc
    /// sends it with status "running", the init pid, bundle and annotations).
    public static func containerProcessState(ociVersion: String, pid: Int32, metadata: String?, stateJSON: [UInt8]) -> [UInt8] {
        var json = "{\"ociVersion\":\(FlatJSONWriter.quoted(ociVersion)),\"fds\":[\"seccompFd\"],\"pid\":\(pid)"
        if let metadata, !metadata.isEmpty { json += ",\"metadata\":\(FlatJSONWriter.quoted(metadata))" }
        json += ",\"state\":"
        return Array(json.utf8) + stateJSON + Array("}".utf8)
    }
}
