import CSQLite
import Foundation
import InMemoryLogging
import Logging
import Synchronization
import Testing
@testable import BackgroundCopy

/// A fresh directory and database path for one test; removed when the test ends.
final class Scratch: Sendable {
    let directory: String
    /// Everything the library logged through managers this scratch opened.
    let log = InMemoryLogHandler()

    init() {
        let base = FileManager.default.temporaryDirectory.path
        directory = "\(base)/bgcopy-tests-\(UUID().uuidString.prefix(12))"
        try! FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    var database: String { "\(directory)/queue.sqlite" }

    func path(_ name: String) -> String { "\(directory)/\(name)" }

    /// A logger that records into ``log``.
    var logger: Logger {
        let handler = log
        return Logger(label: "BackgroundCopyTests") { _ in handler }
    }

    func open(_ configuration: QueueManager.Configuration = .init()) throws -> QueueManager {
        try QueueManager(path: database, configuration: configuration, logger: logger)
    }

    /// Opens the queue through another file system (the fault-injection seam).
    func open(fileSystem: any FileSystem) throws -> QueueManager {
        try QueueManager(path: database, configuration: .init(), fileSystem: fileSystem, logger: logger)
    }

    /// `count` file specs with local paths in this directory, named `prefix0`, `prefix1`, ….
    func specs(_ count: Int, prefix: String = "file", sizeHint: UInt64? = nil) -> [FileSpec] {
        (0..<count).map { FileSpec(remote: "https://example.test/\(prefix)\($0)", local: path("\(prefix)\($0)"), sizeHint: sizeHint) }
    }

    /// Writes `bytes` to a file in this directory.
    func write(_ name: String, _ bytes: [UInt8]) {
        _ = FileManager.default.createFile(atPath: path(name), contents: Data(bytes))
    }
}

/// Every row of every table of the database, as text, in a fixed order: two equal digests mean
/// equal content. Read through a separate raw SQLite connection.
func tableDigest(_ path: String) throws -> String {
    var db: OpaquePointer?
    guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, nil) == SQLITE_OK, let db else {
        throw QueueError(.storage, "cannot open \(path) for digest")
    }
    defer { sqlite3_close_v2(db) }
    func rows(_ sql: String) -> [[String]] {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK else { return [["prepare failed: \(sql)"]] }
        defer { sqlite3_finalize(statement) }
        var result: [[String]] = []
        while sqlite3_step(statement) == SQLITE_ROW {
            result.append(
                (0..<sqlite3_column_count(statement)).map { column in
                    switch sqlite3_column_type(statement, column) {
                    case SQLITE_NULL: "NULL"
                    case SQLITE_BLOB:
                        "x'"
                            + Array(
                                UnsafeRawBufferPointer(
                                    start: sqlite3_column_blob(statement, column),
                                    count: Int(sqlite3_column_bytes(statement, column)))
                            ).hexString + "'"
                    default: String(cString: sqlite3_column_text(statement, column))
                    }
                })
        }
        return result
    }
    var out = ""
    for table in rows("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").map({ $0[0] }) {
        out += "## \(table)\n"
        for row in rows("SELECT * FROM \"\(table)\" ORDER BY 1") { out += row.joined(separator: "|") + "\n" }
    }
    return out
}

/// Drives the engine's real store operations for the next claimable file, as the engine will:
/// claim, write the temp file, checkpoint, and — unless `partial` — finalize, rename and complete.
/// Returns the claim, or `nil` if no file was claimable.
@discardableResult
func transferNextFile(_ manager: QueueManager, content: [UInt8], partial: Bool = false) throws -> Claim? {
    let ledger = TransferLedger(core: manager.core)
    guard let claim = try ledger.claimNextFile() else { return nil }
    let bytes = partial ? Array(content.prefix(content.count / 2)) : content
    _ = FileManager.default.createFile(atPath: claim.tempPath, contents: Data(bytes))
    _ = try ledger.checkpoint(claim.fileRowID, bytesDone: UInt64(bytes.count), bytesTotal: UInt64(content.count), validator: "\"v1\"")
    if partial { return claim }
    _ = try ledger.beginFinalizing(claim.fileRowID, bytesTotal: UInt64(content.count))
    try FileManager.default.moveItem(atPath: claim.tempPath, toPath: claim.local)
    try ledger.complete(claim.fileRowID)
    return claim
}

/// Reads rows of the database through a raw connection, for assertions about stored state.
func query(_ path: String, _ sql: String) throws -> [[String]] {
    var db: OpaquePointer?
    guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, nil) == SQLITE_OK, let db else {
        throw QueueError(.storage, "cannot open \(path)")
    }
    defer { sqlite3_close_v2(db) }
    var statement: OpaquePointer?
    guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK else {
        throw QueueError(.storage, String(cString: sqlite3_errmsg(db)), sql: sql)
    }
    defer { sqlite3_finalize(statement) }
    var result: [[String]] = []
    while sqlite3_step(statement) == SQLITE_ROW {
        result.append(
            (0..<sqlite3_column_count(statement)).map { column in
                sqlite3_column_type(statement, column) == SQLITE_NULL ? "NULL" : String(cString: sqlite3_column_text(statement, column))
            })
    }
    return result
}

/// One call of a test double that the test holds or fails: every call is counted, held until
/// ``open()`` (once open it stays open) when `gated`, and fails with `EIO` when `failing`.
final class GatedCall: Sendable {
    private let count = Atomic<Int>(0)
    private let gate = DispatchSemaphore(value: 0)
    let gated: Bool
    let failing: Bool

    init(gated: Bool = false, failing: Bool = false) {
        self.gated = gated
        self.failing = failing
    }

    /// How many calls were made so far.
    var calls: Int { count.load(ordering: .sequentiallyConsistent) }

    /// Lets every held call and every later one through.
    func open() { gate.signal() }

    /// Counts a call of `what` on `path`, holds it while the gate is shut, and fails it if `failing`.
    func pass(_ what: String, path: String) throws(QueueError) {
        count.add(1, ordering: .sequentiallyConsistent)
        if gated {
            gate.wait()
            gate.signal()
        }
        if failing { throw QueueError(.fileSystem, "\(what) of \(path) failed", value: path, systemError: EIO) }
    }
}

/// A test double over the real file system: every call goes to ``PosixFileSystem`` unless the
/// conforming type implements it itself, so a double states only the calls it changes.
protocol PassThroughFileSystem: FileSystem {}

extension PassThroughFileSystem {
    func kind(of path: String) throws(QueueError) -> FileKind? { try PosixFileSystem().kind(of: path) }
    func resolve(_ path: String) throws(QueueError) -> String? { try PosixFileSystem().resolve(path) }
    func isWritableDirectory(_ path: String) -> Bool { PosixFileSystem().isWritableDirectory(path) }
    func open(_ path: String, exclusive: Bool) throws(QueueError) -> OpenFile { try PosixFileSystem().open(path, exclusive: exclusive) }
    func openForReading(_ path: String) throws(QueueError) -> OpenFile { try PosixFileSystem().openForReading(path) }
    func write(_ file: OpenFile, _ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws(QueueError) {
        try PosixFileSystem().write(file, bytes, at: offset)
    }
    func read(_ file: OpenFile, into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(QueueError) -> Int {
        try PosixFileSystem().read(file, into: buffer, at: offset)
    }
    func fsync(_ file: OpenFile) throws(QueueError) { try PosixFileSystem().fsync(file) }
    func close(_ file: OpenFile) { PosixFileSystem().close(file) }
    func truncate(_ file: OpenFile, to size: UInt64) throws(QueueError) { try PosixFileSystem().truncate(file, to: size) }
    func metadata(of path: String) throws(QueueError) -> FileMetadata? { try PosixFileSystem().metadata(of: path) }
    func rename(_ from: String, to: String) throws(QueueError) { try PosixFileSystem().rename(from, to: to) }
    func unlink(_ path: String) throws(QueueError) { try PosixFileSystem().unlink(path) }
    func fsyncDirectory(_ path: String) throws(QueueError) { try PosixFileSystem().fsyncDirectory(path) }
}
