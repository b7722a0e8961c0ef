import MCP

/// The tools `tools/list` answers: names, descriptions and JSON schemas. Their
/// behaviour is MCPSession's; docs/mcp.md lists the same arguments.
enum SandboxTools {
    static let sandboxID: Value = [
        "type": "string",
        "description": "A sandbox from create_sandbox; default: this session's default sandbox, made on first use.",
    ]
    static let timeout: Value = [
        "type": "number",
        "description": "Seconds before the command is killed (default 60, at most 3600).",
    ]

    static func all(policies: [String], imagesAllowed: Bool) -> [Tool] {
        var createProperties: [String: Value] = [
            "profile": [
                "type": "string", "enum": .array(policies.map { .string($0) }),
                "description": .string("The sandbox's policy, one the operator allowed (default \(policies[0]))."),
            ],
        ]
        if imagesAllowed {
            createProperties["image"] = [
                "type": "string",
                "description": "An absolute host path of a root filesystem under the operator's --images directories (default: the server's --rootfs).",
            ]
        }
        return [
            Tool(
                name: "run_code",
                description: """
                    Run a program in a sandbox and return its stdout, stderr and exit code. The code is given \
                    to the language's interpreter on standard input. A language the sandbox's image lacks is an error.
                    """,
                inputSchema: [
                    "type": "object",
                    "properties": [
                        "language": ["type": "string", "enum": .array(Language.names.map { .string($0) })],
                        "code": ["type": "string", "description": "The program's source."],
                        "sandbox_id": sandboxID,
                        "timeout": timeout,
                    ],
                    "required": ["language", "code"],
                ]),
            Tool(
                name: "run_command",
                description: "Run a shell command line (/bin/sh -c) or an argv in a sandbox; stdout, stderr and the exit code come back.",
                inputSchema: [
                    "type": "object",
                    "properties": [
                        "command": ["type": "string", "description": "A shell command line."],
                        "argv": ["type": "array", "items": ["type": "string"], "description": "Instead of command: the program and its arguments."],
                        "cwd": ["type": "string", "description": "Absolute working directory in the sandbox."],
                        "env": ["type": "object", "additionalProperties": ["type": "string"]],
                        "stdin": ["type": "string", "description": "Text given on standard input."],
                        "sandbox_id": sandboxID,
                        "timeout": timeout,
                    ],
                ]),
            Tool(
                name: "read_file",
                description: "Read a regular file of a sandbox (at most 1 MiB). Paths resolve inside the sandbox, never on the host.",
                inputSchema: [
                    "type": "object",
                    "properties": [
                        "path": ["type": "string", "description": "Absolute path in the sandbox."],
                        "encoding": ["type": "string", "enum": ["utf-8", "base64"], "description": "utf-8 (default) or base64 for binary files."],
                        "sandbox_id": sandboxID,
                    ],
                    "required": ["path"],
                ],
                annotations: .init(readOnlyHint: true)),
            Tool(
                name: "write_file",
                description: "Write a file in a sandbox, replacing it; missing parent directories are made.",
                inputSchema: [
                    "type": "object",
                    "properties": [
                        "path": ["type": "string", "description": "Absolute path in the sandbox."],
                        "content": ["type": "string"],
                        "encoding": ["type": "string", "enum": ["utf-8", "base64"], "description": "How content is given: utf-8 (default) or base64."],
                        "sandbox_id": sandboxID,
                    ],
                    "required": ["path", "content"],
                ]),
            Tool(
                name: "list_files",
                description: "List a directory of a sandbox: name, type (file, dir, symlink, other) and size of each entry.",
                inputSchema: [
                    "type": "object",
                    "properties": [
                        "path": ["type": "string", "description": "Absolute path of a directory in the sandbox (default /)."],
                        "sandbox_id": sandboxID,
                    ],
                ],
                annotations: .init(readOnlyHint: true)),
            Tool(
                name: "create_sandbox",
                description: "Create a new sandbox from a profile the operator configured; returns its sandbox_id.",
                inputSchema: ["type": "object", "properties": .object(createProperties)]),
            Tool(
                name: "kill_sandbox",
                description: "Kill a sandbox of this session and remove it with its files.",
                inputSchema: [
                    "type": "object",
                    "properties": ["sandbox_id": ["type": "string", "description": "The sandbox to kill (default: the default sandbox)."]],
                ],
                annotations: .init(destructiveHint: true)),
        ]
    }
}
