// Tracks the OCI runtime-spec v1.2.0 (config-linux.md "Seccomp").
//
// The decoder's mapping of `linux.seccomp` (see FastDecoding.swift). Seccomp profiles
// are the largest part of a real config.json (Docker's has ~400 syscall names).

extension FastDecoding {
    static func seccomp(_ tree: JSONTree) throws -> LinuxSeccomp {
        let object = try Fast.object(tree)
        return LinuxSeccomp(
            defaultAction: try object.required("defaultAction", Fast.term),
            defaultErrnoRet: try object.optional("defaultErrnoRet", Fast.uint32),
            architectures: try object.optional("architectures", Fast.strings),
            flags: try object.optional("flags", Fast.strings),
            listenerPath: try object.optional("listenerPath", Fast.string),
            listenerMetadata: try object.optional("listenerMetadata", Fast.string),
            syscalls: try object.optional("syscalls") { try Fast.array($0, syscall) }
        )
    }

    static func syscall(_ tree: JSONTree) throws -> LinuxSyscall {
        let object = try Fast.object(tree)
        return LinuxSyscall(
            names: try object.required("names", Fast.strings),
            action: try object.required("action", Fast.term),
            errnoRet: try object.optional("errnoRet", Fast.uint32),
            args: try object.optional("args") { try Fast.array($0, seccompArg) }
        )
    }

    static func seccompArg(_ tree: JSONTree) throws -> LinuxSeccompArg {
        let object = try Fast.object(tree)
        return LinuxSeccompArg(
            index: try object.required("index", Fast.uint),
            value: try object.required("value", Fast.uint64),
            valueTwo: try object.optional("valueTwo", Fast.uint64),
            op: try object.required("op", Fast.term)
        )
    }
}
