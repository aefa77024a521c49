import BackgroundCopyTesting
import Foundation
import PostgresNIO
import Testing
import TestScheduling
@testable import BackgroundCopy

@Suite("PostgreSQL: schema and migrations", .serialized, .alone)
struct PostgresSchemaTests {
    static func schemaFiles() throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: postgresSchemaDirectory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "sql" }.sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    @Test func embeddedMigrationsAreTheSchemaFilesByteForByte() throws {
        let files = try Self.schemaFiles()
        #expect(!files.isEmpty)
        #expect(EmbeddedPostgresSchema.migrations.map(\.name) == files.map(\.lastPathComponent))
        for (migration, file) in zip(EmbeddedPostgresSchema.migrations, files) {
            #expect(migration.sql == (try String(contentsOf: file, encoding: .utf8)), "\(migration.name)")
        }
        #expect(EmbeddedPostgresSchema.migrations.map(\.version) == Array(1...files.count))
    }

    /// The migrator (statements split, one transaction) and psql applying the files as a person
    /// would end in the same schema, as pg_dump prints it.
    @Test(.timeLimit(.minutes(2)))
    func aMigratedDatabaseIsExactlyTheSchemaFiles() async throws {
        try await PostgresQueue.with { queue in
            let reference = try queue.cluster.createDatabase()
            for file in try Self.schemaFiles() { try queue.cluster.psql(database: reference, file: file.path) }
            let migrated = try queue.cluster.schemaDump(database: queue.database, excluding: ["schema_version"])
            #expect(migrated.contains("CREATE TABLE public.files"))
            #expect(migrated == (try queue.cluster.schemaDump(database: reference)))
            let versions = try queue.cluster.psql(database: queue.database, command: "SELECT version, name FROM schema_version ORDER BY version")
            #expect(versions.split(separator: "\n").map(String.init) == EmbeddedPostgresSchema.migrations.map { "\($0.version)|\($0.name)" })
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func hostsMigratingAtOnceApplyEachMigrationOnce() async throws {
        try await PostgresQueue.with(migrate: false) { queue in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 { group.addTask { try await queue.store.migrate() } }
                try await group.waitForAll()
            }
            try await queue.store.migrate()
            let count = try queue.cluster.psql(database: queue.database, command: "SELECT count(*) FROM schema_version")
            #expect(count.trimmingCharacters(in: .whitespacesAndNewlines) == "\(PostgresMigrator.latestVersion)")
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func anotherApplicationsDatabaseIsRefusedAndLeftAlone() async throws {
        try await PostgresQueue.with(migrate: false) { queue in
            try queue.cluster.psql(database: queue.database, command: "CREATE TABLE customers (id integer)")
            do throws(QueueError) {
                try await queue.store.migrate()
                Issue.record("a foreign database was migrated")
            } catch {
                #expect(error.code == .incompatibleDatabase)
            }
            let tables = try queue.cluster.psql(database: queue.database, command: "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            #expect(tables.trimmingCharacters(in: .whitespacesAndNewlines) == "customers")
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func aDatabaseFromANewerSchemaIsRefused() async throws {
        try await PostgresQueue.with { queue in
            let newer = PostgresMigrator.latestVersion + 1
            try queue.cluster.psql(database: queue.database, command: "INSERT INTO schema_version (version, name) VALUES (\(newer), 'future.sql')")
            do throws(QueueError) {
                try await queue.store.migrate()
                Issue.record("a newer schema was accepted")
            } catch {
                #expect(error.code == .incompatibleDatabase)
            }
        }
    }

    @Test func scriptsSplitAtSemicolonsOutsideCommentsStringsAndDollarQuotes() {
        let script = """
            -- a comment; not a statement
            CREATE TABLE a (x text DEFAULT 'semi;colon', "odd;name" integer);
            /* block; comment */
            CREATE FUNCTION f() RETURNS integer AS $body$ BEGIN RETURN 1; END $body$ LANGUAGE plpgsql;
            SELECT $1, 'it''s; fine';
            -- trailing comment only
            """
        let statements = SQLScript.statements(script)
        #expect(statements.count == 3)
        #expect(statements[0].hasSuffix("\"odd;name\" integer)"))
        #expect(statements[1].contains("RETURN 1; END $body$ LANGUAGE plpgsql"))
        #expect(statements[2] == "SELECT $1, 'it''s; fine'")
    }
}
