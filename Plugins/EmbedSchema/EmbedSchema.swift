import Foundation
import PackagePlugin

/// Embeds the package's schema migrations into the library at build time, so the running schema is
/// exactly the files (DESIGN.md, Layout): `Schema/*.sql` (SQLite) as `EmbeddedSchema.migrations`,
/// `Schema/postgres/*.sql` (PostgreSQL) as `EmbeddedPostgresSchema.migrations`.
@main
struct EmbedSchema: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let schemaDirectory = context.package.directoryURL.appending(path: "Schema")
        let embedder = try context.tool(named: "SchemaEmbedder").url
        return try [
            (schemaDirectory, "EmbeddedSchema"),
            (schemaDirectory.appending(path: "postgres"), "EmbeddedPostgresSchema"),
        ].map { directory, name in
            let migrations = try FileManager.default
                .contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
                .filter { $0.pathExtension == "sql" }
                .sorted { $0.lastPathComponent < $1.lastPathComponent }
            let output = context.pluginWorkDirectoryURL.appending(path: "\(name).swift")
            return .buildCommand(
                displayName: "Embedding \(migrations.count) schema migration(s) as \(name)",
                executable: embedder,
                arguments: ["--enum", name, output.path] + migrations.map(\.path),
                inputFiles: migrations,
                outputFiles: [output]
            )
        }
    }
}
