import CServe
import Foundation
import NIOConcurrencyHelpers
#if canImport(Glibc)
import Glibc
#endif

/// Files a live sandbox changes, as it changes them: inotify on the upper directory of
/// its ephemeral root (on the host, beside the overlay), where every write of the
/// sandbox's root lands. The kernel reports what it does anyway; the sandbox makes no
/// call and waits for nothing (the notifications are queued for this service's one
/// reader thread). Published as `file_changed` events (`path` inside the sandbox,
/// `kind` created, modified or deleted, judged against the image as the change set at
/// delete judges them), coalesced per path over a window and bounded per window, so a
/// sandbox writing thousands of files costs the service a few events a second.
///
/// Only the overlay's root is seen: tmpfs mounts of the sandbox (its /tmp), `/input`
/// and `/output` are not in the upper directory. A gVisor sandbox's root lives in
/// gVisor's memory, out of the host's sight: it has no feed.
final class FileChangeFeed: @unchecked Sendable {
    /// How long changes are gathered before they are published (one event per path).
    static let window: TimeInterval = 0.25
    /// `file_changed` events per sandbox and window at most; past it, one
    /// `file_changes_dropped` event says how many were left out (a directory past the
    /// watch limit, or an overflow of the kernel's queue, counts one).
    static let perWindow = 32
    /// Directories watched per sandbox at most (each is a kernel watch).
    static let maxDirectories = 4096

    enum Kind: String { case created, modified, deleted }

    private struct Sandbox {
        var upper: String
        var lower: String
        var directories: Set<Int32> = []
        var pending: [String: Kind] = [:]
        var order: [String] = []
        var dropped = 0
    }

    private let events: EventHub
    private let lock = NIOLock()
    private var fd: Int32 = -1
    private var sandboxes: [String: Sandbox] = [:]
    /// Watch descriptor -> the sandbox and the directory's path relative to its upper
    /// directory ("" for the upper directory itself).
    private var directories: [Int32: (id: String, relative: String)] = [:]

    init(events: EventHub) { self.events = events }

    /// Starts watching the upper directory of sandbox `id` (what is in it already is not
    /// published: a sandbox found again after a restart). False when it cannot be
    /// watched (no upper directory, no inotify).
    @discardableResult
    func track(_ id: String, upper: String, lower: String) -> Bool {
        lock.withLock {
            if fd < 0 {
                fd = serve_inotify_open()
                guard fd >= 0 else { return false }
                let fd = self.fd
                Thread.detachNewThread { [self] in readLoop(fd) }
            }
            sandboxes[id] = Sandbox(upper: upper, lower: lower)
            return watchTree(id, relative: "", report: false)
        }
    }

    /// Publishes what is pending for `id` and stops watching it (before its delete, so
    /// the teardown of its root is not reported).
    func untrack(_ id: String) {
        let batch: [(String, [String: Any])] = lock.withLock {
            guard let sandbox = sandboxes.removeValue(forKey: id) else { return [] }
            for wd in sandbox.directories {
                directories[wd] = nil
                _ = serve_inotify_unwatch(fd, wd)
            }
            var copy = sandbox
            return Self.drain(&copy)
        }
        for (type, details) in batch { events.publish(id, type, details) }
    }

    // MARK: - the reader

    private func readLoop(_ fd: Int32) {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var lastFlush = Date()
        while true {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, Int32(Self.window * 1000))
            if ready > 0 {
                let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
                if n > 0 { lock.withLock { handle(buffer, count: n) } }
            } else if ready < 0, errno != EINTR {
                return
            }
            if Date().timeIntervalSince(lastFlush) >= Self.window {
                lastFlush = Date()
                flush()
            }
        }
    }

    /// Parses the `struct inotify_event`s in the buffer (wd, mask, cookie, len, name).
    private func handle(_ buffer: [UInt8], count: Int) {
        var offset = 0
        while offset + 16 <= count {
            func u32(_ at: Int) -> UInt32 {
                UInt32(buffer[at]) | UInt32(buffer[at + 1]) << 8 | UInt32(buffer[at + 2]) << 16 | UInt32(buffer[at + 3]) << 24
            }
            let wd = Int32(bitPattern: u32(offset))
            let mask = u32(offset + 4)
            let length = Int(u32(offset + 12))
            var name = ""
            if length > 0 {
                let bytes = buffer[(offset + 16)..<min(count, offset + 16 + length)]
                name = String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            }
            offset += 16 + length
            event(wd: wd, mask: mask, name: name)
        }
    }

    private func event(wd: Int32, mask: UInt32, name: String) {
        if mask & UInt32(IN_Q_OVERFLOW) != 0 {
            // The kernel's queue overflowed: some changes of some sandboxes are lost.
            for id in sandboxes.keys { sandboxes[id]?.dropped += 1 }
            return
        }
        guard let (id, relative) = directories[wd] else { return }
        if mask & UInt32(IN_IGNORED) != 0 {
            // The directory went (removed, or its file system unmounted).
            directories[wd] = nil
            sandboxes[id]?.directories.remove(wd)
            return
        }
        guard !name.isEmpty, let sandbox = sandboxes[id] else { return }
        let path = relative + "/" + name
        let isDirectory = mask & UInt32(IN_ISDIR) != 0
        if mask & UInt32(IN_CREATE | IN_MOVED_TO) != 0 {
            if isDirectory {
                // A directory the sandbox made, or one overlayfs copied up (a parent of
                // a file it changed): watched, and its contents (made before the watch
                // was) reported.
                if let kind = Self.directoryKind(upper: sandbox.upper + path, lower: sandbox.lower + path) { note(id, path, kind) }
                _ = watchTree(id, relative: path, report: true)
            } else {
                note(id, path, Self.kind(upper: sandbox.upper + path, lower: sandbox.lower + path))
            }
        } else if mask & UInt32(IN_DELETE | IN_MOVED_FROM) != 0 {
            note(id, path, .deleted)
        } else if mask & UInt32(IN_MODIFY | IN_CLOSE_WRITE) != 0, !isDirectory {
            note(id, path, .modified)
        }
    }

    /// A file or link in the upper directory against the image: an overlay whiteout (a
    /// 0:0 character device) is a deletion; one the image has, a modification.
    private static func kind(upper: String, lower: String) -> Kind {
        var st = stat()
        if lstat(upper, &st) == 0, st.st_mode & S_IFMT == S_IFCHR, st.st_rdev == 0 { return .deleted }
        var inImage = stat()
        return lstat(lower, &inImage) == 0 ? .modified : .created
    }

    /// A directory is a change only when the image has no directory there.
    private static func directoryKind(upper: String, lower: String) -> Kind? {
        var inImage = stat()
        guard lstat(lower, &inImage) == 0 else { return .created }
        return inImage.st_mode & S_IFMT == S_IFDIR ? nil : .modified
    }

    /// Watches the directory `relative` of sandbox `id` and every directory below it;
    /// with `report`, what is in them is noted as changed. Called with the lock held.
    private func watchTree(_ id: String, relative: String, report: Bool) -> Bool {
        guard var sandbox = sandboxes[id] else { return false }
        guard sandbox.directories.count < Self.maxDirectories else {
            // What changes below it is not seen: the followers are told so.
            sandboxes[id]?.dropped += 1
            return false
        }
        let wd = serve_inotify_watch(fd, sandbox.upper + relative)
        guard wd >= 0 else { return false }
        // A directory moved within the upper directory keeps its watch: the path is updated.
        directories[wd] = (id, relative)
        sandbox.directories.insert(wd)
        sandboxes[id] = sandbox
        guard let dir = opendir(sandbox.upper + relative) else { return true }
        var children: [(String, Bool)] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            children.append((name, entry.pointee.d_type == UInt8(DT_DIR)))
        }
        closedir(dir)
        for (name, isDirectory) in children {
            let path = relative + "/" + name
            if isDirectory {
                if report, let kind = Self.directoryKind(upper: sandbox.upper + path, lower: sandbox.lower + path) { note(id, path, kind) }
                _ = watchTree(id, relative: path, report: report)
            } else if report {
                note(id, path, Self.kind(upper: sandbox.upper + path, lower: sandbox.lower + path))
            }
        }
        return true
    }

    /// Adds a change to what is pending, folded with what is pending for the path
    /// already: made then written is made; made then removed is nothing; removed then
    /// made again is modified. Called with the lock held.
    private func note(_ id: String, _ path: String, _ kind: Kind) {
        guard var sandbox = sandboxes[id] else { return }
        switch (sandbox.pending[path], kind) {
        case (nil, _):
            sandbox.pending[path] = kind
            sandbox.order.append(path)
        case (.created?, .modified): break
        case (.created?, .deleted): sandbox.pending[path] = nil
        case (.deleted?, .created): sandbox.pending[path] = .modified
        default: sandbox.pending[path] = kind
        }
        sandboxes[id] = sandbox
    }

    /// Publishes every sandbox's pending changes.
    private func flush() {
        let batches: [(String, [(String, [String: Any])])] = lock.withLock {
            var out: [(String, [(String, [String: Any])])] = []
            for id in sandboxes.keys {
                guard var sandbox = sandboxes[id], !sandbox.order.isEmpty || sandbox.dropped > 0 else { continue }
                let batch = Self.drain(&sandbox)
                sandboxes[id] = sandbox
                out.append((id, batch))
            }
            return out
        }
        for (id, batch) in batches {
            for (type, details) in batch { events.publish(id, type, details) }
        }
    }

    /// The events for what is pending (at most `perWindow`, then the count left out).
    private static func drain(_ sandbox: inout Sandbox) -> [(String, [String: Any])] {
        var out: [(String, [String: Any])] = []
        var dropped = sandbox.dropped
        for path in sandbox.order {
            guard let kind = sandbox.pending[path] else { continue }
            if out.count < perWindow {
                out.append(("file_changed", ["path": path, "kind": kind.rawValue]))
            } else {
                dropped += 1
            }
        }
        if dropped > 0 { out.append(("file_changes_dropped", ["count": dropped])) }
        sandbox.pending = [:]
        sandbox.order = []
        sandbox.dropped = 0
        return out
    }
}
