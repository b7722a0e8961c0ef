import ContainerCore
import Linux

extension MountTarget {
    /// Opens the destination of a proc or sysfs mount, which must be an ordinary
    /// directory reached without any symlink. An image that ships /proc as a symlink
    /// (to /tmp, or to a bind mount the container controls) would otherwise get the
    /// kernel's proc or sysfs wherever the link points, where a later masked-path or
    /// read-only step no longer covers it. runc refuses the same: "filesystem "proc"
    /// must be mounted on ordinary directory".
    static func openOrdinaryDirectory(_ destination: String, in rootfs: String, filesystem: String) throws -> MountTarget {
        let lexical = PathText.normalize(destination)
        guard let components = plainComponents(of: lexical),
              let target = try walk(components, in: rootfs, making: .directory, for: destination, stopAtSymlink: true) else {
            throw RuntimeError("mount \(filesystem) on \(destination): filesystem \"\(filesystem)\" must be mounted on ordinary directory, and \(destination) is or passes through a symlink in the root filesystem")
        }
        return target
    }
}
