import Linux
#if canImport(Glibc)
import Glibc
#endif

/// An image's root filesystem for one sandbox: its layers from the store stacked as a
/// read-only overlay (no upper layer, nothing copied), mounted in the sandbox's
/// generated bundle. The ephemeral root then takes that overlay's layers as its own
/// lower layers, directly (EphemeralRoot, OverlayLayers), and the change set is
/// computed against this view of the image.
public enum ImageRoot {
    /// Mounts the layers (bottom first) read-only at `target`, an empty directory.
    /// One layer is a read-only bind (overlayfs needs two lower layers without an
    /// upper one).
    public static func mount(layers: [String], at target: String) throws {
        guard let bottom = layers.first else { throw ImageError("the image has no layers") }
        if layers.count == 1 {
            try Mounts.mount(source: bottom, target: target, type: nil, flags: [.bind])
            if !(try Mounts.setAttributes(target, set: [.readOnly], recursive: false)) {
                // Before Linux 5.12: a read-only bind is a remount of the bind.
                try Mounts.mount(source: bottom, target: target, type: nil, flags: [.bind, .remount, .readOnly])
            }
            return
        }
        // overlayfs lists lower layers top first.
        let lowers = layers.reversed().joined(separator: ":")
        guard lowers.utf8.count < 3900 else {
            throw ImageError("the image has \(layers.count) layers: more than overlayfs's mount options can name")
        }
        try Mounts.mount(source: "overlay", target: target, type: "overlay", flags: [.readOnly], data: "lowerdir=\(lowers)")
    }

    /// Unmounts the image's root at `target` if it is mounted (detached: the sandbox's
    /// own overlay may still hold it while it goes).
    /// A bind of a layer has its file system's device: no device check tells it from a
    /// directory, so the unmount is simply tried (EINVAL: nothing was mounted there).
    public static func unmount(_ target: String) {
        try? Mounts.unmount(target, detach: true)
    }
}
