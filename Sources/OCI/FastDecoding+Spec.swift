// Tracks the OCI runtime-spec v1.2.0 (config.md).
//
// The decoder's mapping of the top level, root, mounts and hooks (see FastDecoding.swift).

extension FastDecoding {
    static func spec(_ object: FastObject) throws -> Spec {
        Spec(
            ociVersion: try object.required("ociVersion", Fast.string),
            process: try object.optional("process", process),
            root: try object.optional("root", root),
            hostname: try object.optional("hostname", Fast.string),
            domainname: try object.optional("domainname", Fast.string),
            mounts: try object.optional("mounts") { try Fast.array($0, mount) },
            hooks: try object.optional("hooks", hooks),
            annotations: try object.optional("annotations", Fast.stringMap),
            linux: try object.optional("linux", linux)
        )
    }

    static func root(_ tree: JSONTree) throws -> Root {
        let object = try Fast.object(tree)
        return Root(path: try object.required("path", Fast.string), readonly: try object.optional("readonly", Fast.bool))
    }

    static func mount(_ tree: JSONTree) throws -> Mount {
        let object = try Fast.object(tree)
        return Mount(
            destination: try object.required("destination", Fast.string),
            type: try object.optional("type", Fast.string),
            source: try object.optional("source", Fast.string),
            options: try object.optional("options", Fast.strings),
            uidMappings: try object.optional("uidMappings", idMappings),
            gidMappings: try object.optional("gidMappings", idMappings)
        )
    }

    static func idMappings(_ tree: JSONTree) throws -> [LinuxIDMapping] {
        try Fast.array(tree) { element in
            let object = try Fast.object(element)
            return LinuxIDMapping(
                containerID: try object.required("containerID", Fast.uint32),
                hostID: try object.required("hostID", Fast.uint32),
                size: try object.required("size", Fast.uint32)
            )
        }
    }

    static func hooks(_ tree: JSONTree) throws -> Hooks {
        let object = try Fast.object(tree)
        return Hooks(
            prestart: try object.optional("prestart", hookList),
            createRuntime: try object.optional("createRuntime", hookList),
            createContainer: try object.optional("createContainer", hookList),
            startContainer: try object.optional("startContainer", hookList),
            poststart: try object.optional("poststart", hookList),
            poststop: try object.optional("poststop", hookList)
        )
    }

    static func hookList(_ tree: JSONTree) throws -> [Hook] {
        try Fast.array(tree) { element in
            let object = try Fast.object(element)
            return Hook(
                path: try object.required("path", Fast.string),
                args: try object.optional("args", Fast.strings),
                env: try object.optional("env", Fast.strings),
                timeout: try object.optional("timeout", Fast.int)
            )
        }
    }
}
