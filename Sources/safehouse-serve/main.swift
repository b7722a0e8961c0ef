import SandboxMCP
import Serve

// safehouse-serve: the sandbox API (docs/serve.md), and MCP at /mcp when given
// --mcp-rootfs (docs/mcp.md). `safehouse serve ...` execs it with the arguments as
// given to safehouse, "serve" first.
var arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "serve" { arguments.removeFirst() }
ServeMain.run(arguments: arguments) { host, mcpArguments in
    ["/mcp": try MCPEndpoint(host: host, arguments: mcpArguments)]
}
