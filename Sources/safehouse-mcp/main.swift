import SandboxMCP

// safehouse-mcp: the MCP server over stdio (docs/mcp.md). `safehouse mcp ...` execs it
// with the arguments as given to safehouse, "mcp" first.
var arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "mcp" { arguments.removeFirst() }
await MCPMain.run(arguments: arguments)
