import CSQLite
import Foundation
import Testing
import TestScheduling
@testable import BackgroundCopy

/// The `Schema/` folder of this package, found from this file's path.
let schemaDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appending(path: "Schema")

/// Runs SQL on a database through a raw connection (for setting up foreign or damaged files).
func rawExecute(_ path: String, _ sql: String) throws {
    var db: OpaquePointer?
    guard sqlite3_open(path, &db) == SQLITE_OK, let db else { throw QueueError(.storage, "cannot open \(path)") }
    defer { sqlite3_close(db) }
    guard sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK else {
        throw QueueError(.storage, String(cString: sqlite3_errmsg(db)), sql: sql)
    }
}

@Suite("Store: opening, schema, transactions", .alongside)
struct StoreTests {
    @Test func openCreatesTheDatabaseWithMode0600() throws {
        let scratch = Scratch()
        let manager = try scratch.open()
        try manager.createGroup(properties: GroupProperties(displayName: "g"))
        for path in [scratch.database, scratch.database + "-wal"] {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600, "\(path)")
        }
    }

    @Test func freshDatabaseSchemaIsExactlyTheSchemaFiles() throws {
        let scratch = Scratch()
        _ = try scratch.open()
        let reference = scratch.path("reference.sqlite")
        let files = try FileManager.default.contentsOfDirectory(at: schemaDirectory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "sql" }.sorted { $0.lastPathComponent < $1.lastPathComponent }
        #expect(!files.isEmpty)
        for file in files { try rawExecute(reference, String(contentsOf: file, encoding: .utf8)) }
        let schema = "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name"
        #expect(try query(scratch.database, schema) == query(reference, schema))
        #expect(try query(scratch.database, "PRAGMA user_version") == [["\(files.count)"]])
    }

    @Test func embeddedMigrationsAreTheSchemaFilesByteForByte() throws {
        let files = try FileManager.default.contentsOfDirectory(at: schemaDirectory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "sql" }.sorted { $0.lastPathComponent < $1.lastPathComponent }
        #expect(EmbeddedSchema.migrations.map(\.name) == files.map(\.lastPathComponent))
        for (migration, file) in zip(EmbeddedSchema.migrations, files) {
            #expect(migration.sql == (try String(contentsOf: file, encoding: .utf8)), "\(migration.name)")
        }
        #expect(EmbeddedSchema.migrations.map(\.version) == Array(1...files.count))
    }

    @Test func reopeningKeepsEverythingAndDoesNotMigrateAgain() throws {
        let scratch = Scratch()
        let id = try scratch.open().createGroup(properties: GroupProperties(displayName: "kept")).id
        let before = try tableDigest(scratch.database)
        let reopened = try scratch.open()
        #expect(try reopened.group(id).properties().displayName == "kept")
        #expect(try tableDigest(scratch.database) == before)
    }

    @Test func databaseFromANewerSchemaIsRefusedAtOpen() throws {
        let scratch = Scratch()
        _ = try scratch.open()
        try rawExecute(scratch.database, "PRAGMA user_version = 99")
        let error = try #require(throws: QueueError.self) { try scratch.open() }
        #expect(error.code == .incompatibleDatabase)
        #expect(error.value == scratch.database)
        #expect(error.message.contains("99"))
    }

    @Test func foreignSQLiteDatabaseIsRefusedAndLeftUntouched() throws {
        let scratch = Scratch()
        try rawExecute(scratch.database, "CREATE TABLE contacts (name TEXT); INSERT INTO contacts VALUES ('ann')")
        let error = try #require(throws: QueueError.self) { try scratch.open() }
        #expect(error.code == .incompatibleDatabase)
        #expect(error.message.contains("not a BackgroundCopy queue"))
        #expect(try query(scratch.database, "SELECT name FROM contacts") == [["ann"]])
    }

    @Test func closingTheQueueCheckpointsAndRemovesTheWAL() throws {
        let scratch = Scratch()
        do {
            let manager = try scratch.open()
            let group = try manager.createGroup(properties: GroupProperties(displayName: "g"))
            _ = try group.status()
            #expect(FileManager.default.fileExists(atPath: scratch.database + "-wal"))
        }
        #expect(!FileManager.default.fileExists(atPath: scratch.database + "-wal"))
        #expect(try query(scratch.database, "SELECT display_name FROM groups") == [["g"]])
    }

    @Test func foreignDatabaseIsRefusedBeforeAnythingIsWrittenToIt() throws {
        let scratch = Scratch()
        try rawExecute(scratch.database, "PRAGMA journal_mode = DELETE; CREATE TABLE contacts (name TEXT); INSERT INTO contacts VALUES ('ann')")
        let before = try #require(FileManager.default.contents(atPath: scratch.database))
        let error = try #require(throws: QueueError.self) { try scratch.open() }
        #expect(error.code == .incompatibleDatabase)
        #expect(FileManager.default.contents(atPath: scratch.database) == before)
        #expect(!FileManager.default.fileExists(atPath: scratch.database + "-wal"))
        #expect(try query(scratch.database, "PRAGMA journal_mode") == [["delete"]])
    }

    @Test func damagedPagesGiveACorruptErrorNamingTheFile() throws {
        let scratch = Scratch()
        do {
            let manager = try scratch.open()
            let job = try manager.createGroup(properties: GroupProperties(displayName: "g")).createJob()
            try job.addFiles(scratch.specs(1500))
        }
        try rawExecute(scratch.database, "PRAGMA wal_checkpoint(TRUNCATE)")
        // Every page but the first (the header and the schema) is overwritten with garbage.
        let size = try #require(FileManager.default.attributesOfItem(atPath: scratch.database)[.size] as? NSNumber).intValue
        let handle = try #require(FileHandle(forWritingAtPath: scratch.database))
        try handle.seek(toOffset: 4096)
        try handle.write(contentsOf: Data(repeating: 0xA5, count: size - 4096))
        try handle.close()
        let error = try #require(throws: QueueError.self) {
            let manager = try scratch.open()
            _ = try manager.groups().map { try $0.jobs().map { try $0.files() } }
        }
        #expect(error.code == .corrupt)
        #expect(error.value == scratch.database)
        #expect(error.message.contains(scratch.database))
    }

    @Test func fileThatIsNotSQLiteIsRefusedWithAClearError() throws {
        let scratch = Scratch()
        scratch.write("queue.sqlite", Array("this is a text file, not a database; it is long enough to have a header.\n".utf8))
        let error = try #require(throws: QueueError.self) { try scratch.open() }
        #expect(error.code == .incompatibleDatabase)
        #expect(error.message.contains("not an SQLite database"))
    }

    @Test func truncatedDatabaseGivesATypedErrorNotACrash() throws {
        let scratch = Scratch()
        do {
            let manager = try scratch.open()
            let job = try manager.createGroup(properties: GroupProperties(displayName: "g")).createJob()
            try job.addFiles(scratch.specs(200))
        }
        try rawExecute(scratch.database, "PRAGMA wal_checkpoint(TRUNCATE)")
        let handle = try #require(FileHandle(forWritingAtPath: scratch.database))
        try handle.truncate(atOffset: 6000)
        try handle.close()
        let error = try #require(throws: QueueError.self) {
            let manager = try scratch.open()
            _ = try manager.groups().map { try $0.jobs().map { try $0.files() } }
        }
        #expect([QueueError.Code.incompatibleDatabase, .corrupt, .storage].contains(error.code))
        #expect(error.sqliteResultCode != nil)
    }

    @Test(arguments: [(QueueManager.Durability.full, "2"), (.relaxed, "1")])
    func durabilitySettingSetsPragmaSynchronous(durability: QueueManager.Durability, expected: String) throws {
        let scratch = Scratch()
        var configuration = QueueManager.Configuration()
        configuration.durability = durability
        let manager = try scratch.open(configuration)
        let synchronous = try manager.core.store.read { db throws(QueueError) in try db.pragma("synchronous") }
        #expect(synchronous == expected)
    }

    @Test func connectionUsesWALAndForeignKeys() throws {
        let manager = try Scratch().open()
        let (journal, keys) = try manager.core.store.read { db throws(QueueError) in
            (try db.pragma("journal_mode"), try db.pragma("foreign_keys"))
        }
        #expect(journal == "wal")
        #expect(keys == "1")
    }

    @Test func failedWriteRollsBackEverythingAndLeavesNoTransactionOpen() throws {
        let scratch = Scratch()
        let manager = try scratch.open()
        let before = try tableDigest(scratch.database)
        #expect(throws: QueueError.self) {
            try manager.core.store.write { db throws(QueueError) in
                try db.execute("INSERT INTO groups (uuid, display_name, created_at, modified_at) VALUES (randomblob(16), 'x', 0, 0)")
                throw QueueError(.invalidState, "stop here")
            }
        }
        #expect(try tableDigest(scratch.database) == before)
        // No transaction was left open: another connection takes the write lock at once.
        try rawExecute(scratch.database, "PRAGMA busy_timeout = 0; BEGIN IMMEDIATE; ROLLBACK")
        try manager.createGroup(properties: GroupProperties(displayName: "after"))
        #expect(try manager.groups().count == 1)
    }

    @Test func preparedStatementsAreCachedAndReused() throws {
        let manager = try Scratch().open()
        let same = try manager.core.store.read { db throws(QueueError) in
            try db.statement("SELECT count(*) FROM groups") === db.statement("SELECT count(*) FROM groups")
        }
        #expect(same)
    }

    @Test func storageErrorsCarryTheResultCodeAndTheFailingSQL() throws {
        let manager = try Scratch().open()
        let error = try #require(throws: QueueError.self) {
            try manager.core.store.read { db throws(QueueError) in _ = try db.statement("SELECT nothing FROM nowhere") }
        }
        #expect(error.code == .storage)
        #expect(error.sqliteResultCode == SQLITE_ERROR)
        #expect(error.sql == "SELECT nothing FROM nowhere")
        #expect(error.description.contains("nowhere"))
    }

    @Test func sqliteVFSIsChosenAtOpen() throws {
        let scratch = Scratch()
        var configuration = QueueManager.Configuration()
        configuration.sqliteVFS = "unix"
        _ = try scratch.open(configuration).createGroup(properties: GroupProperties(displayName: "g"))
        configuration.sqliteVFS = "no-such-vfs"
        let error = try #require(throws: QueueError.self) { try Scratch().open(configuration) }
        #expect(error.code == .storage)
    }

    @Test func twoManagersOnOneFileSeeEachOthersCommits() throws {
        let scratch = Scratch()
        let first = try scratch.open()
        let second = try scratch.open()
        let group = try first.createGroup(properties: GroupProperties(displayName: "shared"))
        try second.group(group.id).suspend()
        try second.group(group.id).createJob()
        #expect(try first.group(group.id).jobs().count == 1)
    }

    @Test func openingInAMissingDirectoryFailsWithTheErrno() throws {
        let error = try #require(throws: QueueError.self) { try QueueManager(path: "/nonexistent-dir-\(UUID())/q.sqlite") }
        #expect(error.code == .fileSystem)
        #expect(error.systemError == ENOENT)
    }
}

@Suite("Store: closing", .alongside)
struct StoreClosingTests {
    /// Descriptors this process has open on files under `directory`.
    static func openDescriptors(under directory: String) throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").filter { fd in
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)"))?.hasPrefix(directory) ?? false
        }.count
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/proc/self/fd")))
    func aDroppedQueueClosesEveryConnection() throws {
        let scratch = Scratch()
        for round in 0..<5 {
            let manager = try scratch.open()
            let group = try manager.createGroup(properties: GroupProperties(displayName: "round \(round)"))
            _ = try group.snapshot()
            #expect(try Self.openDescriptors(under: scratch.directory) > 0)
        }
        #expect(try Self.openDescriptors(under: scratch.directory) == 0)
    }
}
