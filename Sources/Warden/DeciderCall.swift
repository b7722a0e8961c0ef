import Egress
import Linux
import NIOCore
import OCI
import SandboxInterface
#if canImport(Glibc)
import Glibc
#endif

/// One question to a sandbox's decider (DeciderTarget), asked and answered on a
/// thread of its own (never the event loop): blocking calls, each bounded by the
/// deadline. Whatever goes wrong is a refusal that says what went wrong.
enum DeciderCall {
    static func ask(_ target: DeciderTarget, host: String, port: UInt16, timeout: Double) -> DeciderVerdict {
        let deadline = MonotonicClock.seconds() + timeout
        switch target {
        case .exec(let path): return exec(path, host: host, port: port, deadline: deadline, timeout: timeout)
        case .http(let address, let p, let path):
            return http(address, port: p, path: path, host: host, asked: port, deadline: deadline, timeout: timeout)
        case .unix(let socket):
            return unix(socket, host: host, asked: port, deadline: deadline, timeout: timeout)
        }
    }

    /// Milliseconds left until `deadline` (0 once passed), for poll.
    static func left(_ deadline: Double) -> Int32 {
        Int32(max(0, min((deadline - MonotonicClock.seconds()) * 1000, 600_000)).rounded(.up))
    }

    /// Reads from `fd` until end of file, `limit` bytes, or the deadline; nil at the deadline.
    static func readUntilEnd(_ fd: Int32, deadline: Double, limit: Int) -> [UInt8]? {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while bytes.count < limit {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&p, 1, left(deadline))
            if ready < 0 { if errno == EINTR { continue }; return bytes }
            if ready == 0 { return nil }
            let n = read(fd, &buffer, buffer.count)
            if n < 0 { if errno == EINTR || errno == EAGAIN { continue }; return bytes }
            if n == 0 { return bytes }
            bytes += buffer[0..<n]
        }
        return bytes
    }

    /// `prog HOST PORT`; its first line of output. Killed (its process group) at the deadline.
    static func exec(_ path: String, host: String, port: UInt16, deadline: Double, timeout: Double) -> DeciderVerdict {
        let ends: [Int32]
        do {
            let (r, w) = try Linux.FileDescriptor.pipe()
            ends = [r.release(), w.release()]
        } catch { return .failure("decider \(path): \(error)") }
        let pid: pid_t
        switch Spawn.start(path, [path, host, String(port)], stdio: .captured(stdout: ends[1])) {
        case .success(let p): pid = p
        case .failure(let error):
            close(ends[0]); close(ends[1])
            return .failure("decider \(path): \(error)")
        }
        close(ends[1])
        let output = readUntilEnd(ends[0], deadline: deadline, limit: 4096)
        close(ends[0])
        if output == nil {
            kill(-pid, SIGKILL)
            kill(pid, SIGKILL)
        }
        let status = (try? Spawn.wait(pid).get()) ?? -1
        guard let output else { return .failure("the decider gave no answer within \(secondsText(timeout))") }
        // The status after the answer: a decider that printed "allow" and then crashed
        // has not answered.
        guard status == 0 else {
            let how = (status & 0x7f) != 0 ? "was killed by signal \(status & 0x7f)" : "exited with status \((status >> 8) & 0xff)"
            return .failure("decider \(path) \(how)")
        }
        return DeciderVerdict.parse(execOutput: output)
    }

    /// `POST PATH` to the loopback decider; a 200 answer's JSON body.
    static func http(_ address: IPAddress, port: UInt16, path: String, host: String, asked: UInt16,
                     deadline: Double, timeout: Double) -> DeciderVerdict {
        let where_ = "decider http://\(address.family == .v6 ? "[\(address)]" : "\(address)"):\(port)\(path)"
        let fd = socket(address.family == .v6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { return .failure("\(where_): socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard let target = try? SocketAddress(ipAddress: address.description, port: Int(port)) else {
            return .failure("\(where_): connect: not an address")
        }
        if target.withSockAddr({ connect(fd, $0, socklen_t($1)) }) < 0 && errno != EINPROGRESS { return .failure("\(where_): connect: \(String(cString: strerror(errno)))") }
        var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        if poll(&p, 1, left(deadline)) <= 0 { return .failure("the decider gave no answer within \(secondsText(timeout))") }
        var soError: Int32 = 0
        var length = socklen_t(4)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length)
        if soError != 0 { return .failure("\(where_): connect: \(String(cString: strerror(soError)))") }
        return exchange(fd, path: path, hostHeader: address.family == .v6 ? "[\(address)]:\(port)" : "\(address):\(port)",
                        host: host, asked: asked, from: where_, deadline: deadline, timeout: timeout)
    }

    /// `POST /decide` over the Unix socket at `socket` (a path too long for a socket
    /// address is reached through its directory).
    static func unix(_ socket: String, host: String, asked: UInt16, deadline: Double, timeout: Double) -> DeciderVerdict {
        let where_ = "decider unix:\(socket)"
        let connected: Linux.FileDescriptor
        do { connected = try EgressControl.withShortPath(socket) { try Sockets.connect(unixPath: $0) } } catch {
            return .failure("\(where_): \(error)")
        }
        defer { connected.close() }
        let fd = connected.rawValue
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        return exchange(fd, path: DeciderTarget.unixRequestPath, hostHeader: "localhost", host: host, asked: asked,
                        from: where_, deadline: deadline, timeout: timeout)
    }

    /// Sends the question on the connected, non-blocking `fd` and reads the whole answer.
    static func exchange(_ fd: Int32, path: String, hostHeader: String, host: String, asked: UInt16, from where_: String,
                         deadline: Double, timeout: Double) -> DeciderVerdict {
        let body = "{\"host\":\(FlatJSONWriter.quoted(host)),\"port\":\(asked)}"
        let request = Array("POST \(path) HTTP/1.1\r\nHost: \(hostHeader)\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)".utf8)
        var sent = 0
        while sent < request.count {
            var w = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            if poll(&w, 1, left(deadline)) <= 0 { return .failure("the decider gave no answer within \(secondsText(timeout))") }
            let n = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 { if errno == EINTR || errno == EAGAIN { continue }; return .failure("\(where_): send: \(String(cString: strerror(errno)))") }
            sent += n
        }
        guard let answer = readUntilEnd(fd, deadline: deadline, limit: 65536) else {
            return .failure("the decider gave no answer within \(secondsText(timeout))")
        }
        return DeciderVerdict.parse(httpAnswer: answer, from: where_)
    }
}

/// `2s`, `0.5s`: a deadline as a reason names it.
func secondsText(_ seconds: Double) -> String {
    seconds == seconds.rounded() ? "\(Int64(seconds))s" : "\(seconds)s"
}

extension DeciderVerdict {
    /// An HTTP decider's whole answer: status 200 and a JSON body
    /// `{"allow":true|false,"reason":"..."}`; anything else is a refusal saying why.
    static func parse(httpAnswer bytes: [UInt8], from decider: String) -> DeciderVerdict {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard let split = (0..<max(0, bytes.count - 3)).first(where: { Array(bytes[$0..<$0 + 4]) == separator }) else {
            return .failure("\(decider): not an HTTP answer")
        }
        let statusLine = String(decoding: bytes.prefix { $0 != UInt8(ascii: "\r") }, as: UTF8.self)
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1.") else { return .failure("\(decider): not an HTTP answer") }
        guard parts[1] == "200" else { return .failure("\(decider) answered \(statusLine.dropFirst(parts[0].count + 1).prefix(100))") }
        let body = Array(bytes[(split + 4)...])
        guard let o = FlatJSONObject(parsing: body), let allow = o.bool("allow") else {
            return .failure("\(decider): the answer is not {\"allow\":true|false,\"reason\":...}")
        }
        return DeciderVerdict(allowed: allow, reason: String((o.string("reason") ?? "").prefix(1000)))
    }
}
