import Foundation
import PackagePlugin

/// Embeds the package's `Schema/*.sql` migrations into the library at build time, so the running
/// schema is exactly the files in `Schema/` (DESIGN.md, Layout).
@main
struct EmbedSchema: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let schemaDirectory = context.package.directoryURL.appending(path: "Schema")
        let migrations = try FileManager.default
            .contentsOfDirectory(at: schemaDirectory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "sql" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedSchema.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(migrations.count) schema migration(s)",
                executable: try context.tool(named: "SchemaEmbedder").url,
                arguments: [output.path] + migrations.map(\.path),
                inputFiles: migrations,
                outputFiles: [output]
            )
        ]
    }
}
