import ContainerCore
import Linux

/// A mount destination held open inside the root filesystem, so that the mount lands on
/// the very directory (or file) that was checked.
///
/// SecureJoin resolves a destination inside the root, but between that check and
/// mount(2) another process sharing the directory (a second container on the same
/// volume, CVE-2021-30465) can swap a component for a symlink to the host, and a
/// path-based mount would follow it. So the resolved path is walked again from a
/// descriptor of the root, one component at a time with O_NOFOLLOW (a component that
/// has become a symlink fails the walk: set-up stops rather than mount elsewhere),
/// missing components are made with mkdirat on the descriptor already held (an O_PATH
/// descriptor serves as the directory of the *at calls), and the
/// mount goes to /proc/self/fd/N, which names the open file itself, not a path. runc
/// mounts through /proc/self/fd for the same reason.
struct MountTarget {
    /// The destination as the spec writes it, for messages.
    let destination: String
    let fd: FileDescriptor

    /// What mount(2) is given: the descriptor's magic link.
    var path: String { "/proc/self/fd/\(fd.rawValue)" }

    enum Kind { case directory, file }

    /// Opens an existing destination again: after a mount, the new mount's root (the
    /// descriptor taken before it still names the directory underneath).
    static func reopen(_ destination: String, in rootfs: String) throws -> MountTarget {
        try open(destination, in: rootfs, making: nil)
    }

    /// Opens `destination` inside `rootfs`, making it (and missing parents) as `kind`
    /// (nil: it must exist).
    static func open(_ destination: String, in rootfs: String, making kind: Kind?) throws -> MountTarget {
        // With the root held open (holdingRoot: while RootfsSetup mounts), one openat2
        // beneath it resolves the whole destination, symlinks included, as SecureJoin
        // would, in the kernel and atomically. Anything else (no openat2, a rename
        // racing the walk, a missing parent, an error to name) takes the walk below.
        if let held = heldRoot, held.path == rootfs, let target = try openBeneath(held.fd, destination, making: kind) {
            return target
        }
        // Nearly every destination has no symlink on its way: walk it at once, and
        // resolve it with SecureJoin (one lstat per component, then the same walk)
        // only when the walk meets a symlink. Nothing is followed either way.
        if let components = plainComponents(of: destination),
           let target = try walk(components, in: rootfs, making: kind, for: destination, stopAtSymlink: true) {
            return target
        }
        return try walk(resolvedComponents(of: destination, in: rootfs), in: rootfs, making: kind, for: destination)!
    }

    /// The components of `destination` inside `rootfs` as SecureJoin resolves them:
    /// without symlinks, ".." or "." (as they were when it looked).
    static func resolvedComponents(of destination: String, in rootfs: String) throws -> [String] {
        let resolved = try SecureJoin.resolve(destination, in: rootfs)
        // SecureJoin returns rootfs followed by "/" and each component.
        return plainComponents(of: String(resolved.dropFirst(rootfs.count))) ?? []
    }

    /// The components of `destination` when none is "." or ".." (whose meaning
    /// depends on symlinks before them: SecureJoin's case), else nil.
    static func plainComponents(of destination: String) -> [String]? {
        var components: [String] = []
        let bytes = Array(destination.utf8)
        var start = 0
        for i in 0...bytes.count where i == bytes.count || bytes[i] == UInt8(ascii: "/") {
            let length = i - start
            if length > 0 {
                if bytes[start] == UInt8(ascii: "."), length == 1 || (length == 2 && bytes[start + 1] == UInt8(ascii: ".")) {
                    return nil
                }
                components.append(String(decoding: bytes[start..<i], as: UTF8.self))
            }
            start = i + 1
        }
        return components
    }

    /// The walk from the root's descriptor along components SecureJoin resolved; what
    /// changed since it looked fails here (tests swap a component in between).
    /// `stopAtSymlink`: return nil where a symlink is met (the caller resolves the
    /// destination and walks again) instead of failing.
    static func walk(_ components: [String], in rootfs: String, making kind: Kind?, for destination: String,
                     stopAtSymlink: Bool = false) throws -> MountTarget? {
        var current = try FileDescriptor.openPath(directory: rootfs)
        for (i, name) in components.enumerated() {
            let last = i == components.count - 1
            do {
                current = try current.openPath(entry: name)
                continue
            } catch let e as SystemError {
                // ENOTDIR: the component before was not a directory, maybe a symlink.
                if stopAtSymlink && e.code == .notDirectory { return nil }
                guard e.code == .noSuchFileOrDirectory, let kind else { throw changed(destination, e.code) }
            }
            current = try make(name, in: current, asFile: last && kind == .file, for: destination)
        }
        return try checked(current, destination, kind, stopAtSymlink: stopAtSymlink)
    }

    /// Makes `name` in `parent` (a directory, or an empty file) unless something is
    /// there already, and opens it (O_PATH, not following a link).
    private static func make(_ name: String, in parent: FileDescriptor, asFile: Bool, for destination: String) throws -> FileDescriptor {
        do {
            // O_NOFOLLOW | O_EXCL: nothing that appeared meanwhile is followed.
            if asFile { try parent.createFile(name, mode: 0o644) } else { try parent.makeDirectory(name, mode: 0o755) }
        } catch let e as SystemError where e.code != .fileExists {
            throw changed(destination, e.code)
        } catch {
            // Something is there already (EEXIST): opened, and checked, as it is.
        }
        do {
            return try parent.openPath(entry: name)
        } catch let e as SystemError {
            throw changed(destination, e.code)
        }
    }

    /// The target, once its type is right. A symlink here appeared after the path was
    /// resolved (O_PATH | O_NOFOLLOW opens the link itself): refused, or nil when
    /// `stopAtSymlink` (the caller resolves the destination and walks again). A file
    /// where a directory is wanted is an error.
    private static func checked(_ fd: FileDescriptor, _ destination: String, _ kind: Kind?,
                                stopAtSymlink: Bool = false) throws -> MountTarget? {
        let type: FileKind
        do { type = try fd.kind() } catch let e as SystemError { throw changed(destination, e.code) }
        if type == .symlink {
            if stopAtSymlink { return nil }
            throw changed(destination, .tooManySymbolicLinks)
        }
        if kind == .directory, type != .directory { throw RuntimeError("mount destination \(destination): not a directory") }
        return MountTarget(destination: destination, fd: fd)
    }

    // MARK: the held root

    /// The rootfs directory, held open while RootfsSetup mounts into it.
    private final class HeldRoot {
        let path: String
        let fd: FileDescriptor
        init(path: String, fd: FileDescriptor) { self.path = path; self.fd = fd }
    }

    // The init is single-threaded; only RootfsSetup.prepare sets this, for its length.
    nonisolated(unsafe) private static var heldRoot: HeldRoot?

    /// Runs `body` with `rootfs` held open for MountTarget.open (one openat2 per
    /// destination instead of an open of the rootfs path and one per component).
    static func holdingRoot<T>(_ rootfs: String, _ body: () throws -> T) throws -> T {
        let fd = try FileDescriptor.openPath(directory: rootfs)
        heldRoot = HeldRoot(path: rootfs, fd: fd)
        defer {
            heldRoot?.fd.close()
            heldRoot = nil
        }
        return try body()
    }

    /// After a mount onto the root itself: the held descriptor names what is now
    /// underneath, so the root is opened again.
    static func reopenHeldRoot() throws {
        guard let held = heldRoot else { return }
        let fd = try FileDescriptor.openPath(directory: held.path)
        held.fd.close()
        heldRoot = HeldRoot(path: held.path, fd: fd)
    }

    /// openat2 beneath `root`; a missing last component is made (its parent must
    /// exist). nil: the walk must do it (see open).
    private static func openBeneath(_ root: FileDescriptor, _ destination: String, making kind: Kind?) throws -> MountTarget? {
        do {
            return try checked(root.openPath(beneath: destination), destination, kind)
        } catch let e as SystemError where e.code == .noSuchFileOrDirectory {
            // The last component is missing: made below, if its parent is there.
        } catch is SystemError {
            return nil
        }
        guard let kind, let components = plainComponents(of: destination), let name = components.last else {
            return nil
        }
        let parentPath = "/" + Array(components.dropLast()).joinedBy("/")
        guard let parent = try? root.openPath(beneath: parentPath, directory: true) else { return nil }
        defer { parent.close() }
        return try checked(make(name, in: parent, asFile: kind == .file, for: destination), destination, kind)
    }

    private static func changed(_ destination: String, _ code: Errno) -> RuntimeError {
        let why = code == .tooManySymbolicLinks ? "a symlink appeared while the container was set up" : SystemError.message(for: code.rawValue)
        return RuntimeError("mount destination \(destination): \(why)")
    }
}
