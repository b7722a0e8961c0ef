// Tracks the OCI runtime-spec v1.2.0 (config.md).
//
// The decoder's mapping of the top level, root, mounts and hooks (see FastDecoding.swift).

extension FastDecoding {
    static func spec(_ object: FastObject) throws -> Spec {
        Spec(
            ociVersion: try object.required("ociVersion", Fast.string),
            process: try object.optionalObject("process") { try process($0, defaultUser: nil) },
            root: try object.optionalObject("root", root),
            hostname: try object.optional("hostname", Fast.string),
            domainname: try object.optional("domainname", Fast.string),
            mounts: try object.optional("mounts") { try Fast.objects($0, mount) },
            hooks: try object.optionalObject("hooks", hooks),
            annotations: try object.optional("annotations", Fast.stringMap),
            linux: try object.optionalObject("linux", linux)
        )
    }

    static func root(_ object: FastObject) throws -> Root {
        Root(path: try object.required("path", Fast.string), readonly: try object.optional("readonly", Fast.bool))
    }

    static func mount(_ object: FastObject) throws -> Mount {
        Mount(
            destination: try object.required("destination", Fast.string),
            type: try object.optional("type", Fast.string),
            source: try object.optional("source", Fast.string),
            options: try object.optional("options", Fast.strings),
            uidMappings: try object.optional("uidMappings", idMappings),
            gidMappings: try object.optional("gidMappings", idMappings)
        )
    }

    static func idMappings(_ tree: JSONTree) throws -> [LinuxIDMapping] {
        try Fast.objects(tree) { object in
            LinuxIDMapping(
                containerID: try object.required("containerID", Fast.integer),
                hostID: try object.required("hostID", Fast.integer),
                size: try object.required("size", Fast.integer)
            )
        }
    }

    static func hooks(_ object: FastObject) throws -> Hooks {
        Hooks(
            prestart: try object.optional("prestart", hookList),
            createRuntime: try object.optional("createRuntime", hookList),
            createContainer: try object.optional("createContainer", hookList),
            startContainer: try object.optional("startContainer", hookList),
            poststart: try object.optional("poststart", hookList),
            poststop: try object.optional("poststop", hookList)
        )
    }

    static func hookList(_ tree: JSONTree) throws -> [Hook] {
        try Fast.objects(tree) { object in
            Hook(
                path: try object.required("path", Fast.string),
                args: try object.optional("args", Fast.strings),
                env: try object.optional("env", Fast.strings),
                timeout: try object.optional("timeout", Fast.integer)
            )
        }
    }
}
