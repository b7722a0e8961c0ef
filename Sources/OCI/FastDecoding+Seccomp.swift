// Tracks the OCI runtime-spec v1.2.0 (config-linux.md "Seccomp").
//
// The decoder's mapping of `linux.seccomp` (see FastDecoding.swift). Seccomp profiles
// are the largest part of a real config.json (Docker's has ~400 syscall names).

extension FastDecoding {
    static func seccomp(_ object: FastObject) throws -> LinuxSeccomp {
        LinuxSeccomp(
            defaultAction: try object.required("defaultAction", Fast.term),
            defaultErrnoRet: try object.optional("defaultErrnoRet", Fast.integer),
            architectures: try object.optional("architectures", Fast.strings),
            flags: try object.optional("flags", Fast.strings),
            listenerPath: try object.optional("listenerPath", Fast.string),
            listenerMetadata: try object.optional("listenerMetadata", Fast.string),
            syscalls: try object.optional("syscalls") { try Fast.objects($0, syscall) }
        )
    }

    static func syscall(_ object: FastObject) throws -> LinuxSyscall {
        LinuxSyscall(
            names: try object.required("names", Fast.strings),
            action: try object.required("action", Fast.term),
            errnoRet: try object.optional("errnoRet", Fast.integer),
            args: try object.optional("args") { try Fast.objects($0, seccompArg) }
        )
    }

    static func seccompArg(_ object: FastObject) throws -> LinuxSeccompArg {
        LinuxSeccompArg(
            index: try object.required("index", Fast.integer),
            value: try object.required("value", Fast.integer),
            valueTwo: try object.optional("valueTwo", Fast.integer),
            op: try object.required("op", Fast.term)
        )
    }
}
