import ContainerCore
import Linux
import OCI

/// AppArmor profiles and SELinux labels a spec asks for.
///
/// This runtime applies neither. A label that is asked for and silently not applied
/// leaves the process less confined than its author believes, so any such request
/// is refused before anything is made. On a host without the LSM the error says so
/// in runc's words (runc 1.1.5 fails these configs too: "selinux label is specified
/// in config, but selinux is disabled or not supported", and an AppArmor profile
/// fails when written to /proc/self/attr/exec).
enum SecurityLabels {
    /// The spec's requests: process.apparmorProfile, process.selinuxLabel and
    /// linux.mountLabel.
    static func check(_ spec: Spec) throws {
        if let process = spec.process { try check(process: process, field: "process") }
        if let label = spec.linux?.mountLabel, !label.isEmpty {
            throw RuntimeError("linux.mountLabel: \(selinuxProblem(label))")
        }
    }

    /// A process's requests (`field`: "process", or the exec's process file).
    static func check(process: Process, field: String) throws {
        if let profile = process.apparmorProfile, !profile.isEmpty {
            let why = apparmorEnabled
                ? "this runtime cannot apply AppArmor profiles; remove it or use a runtime that does"
                : "apparmor is not enabled on this host"
            throw RuntimeError("\(field).apparmorProfile \"\(profile)\": \(why)")
        }
        if let label = process.selinuxLabel, !label.isEmpty {
            throw RuntimeError("\(field).selinuxLabel: \(selinuxProblem(label))")
        }
    }

    private static func selinuxProblem(_ label: String) -> String {
        selinuxEnabled
            ? "\"\(label)\": this runtime cannot apply SELinux labels; remove it or use a runtime that does"
            : "\"\(label)\": selinux label is specified in config, but selinux is disabled or not supported"
    }

    /// As runc's apparmor.IsEnabled: the module is loaded and enabled.
    static var apparmorEnabled: Bool {
        guard Files.exists("/sys/kernel/security/apparmor"),
              let text = try? Files.readString("/sys/module/apparmor/parameters/enabled") else { return false }
        return text.hasPrefix("Y")
    }

    /// As go-selinux's GetEnabled: selinuxfs is mounted (its usual mount point).
    static var selinuxEnabled: Bool {
        Files.exists("/sys/fs/selinux/enforce")
    }
}
