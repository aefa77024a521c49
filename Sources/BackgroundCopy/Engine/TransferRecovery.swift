/// Puts interrupted transfers back in order when no engine is running (DESIGN.md, Durability
/// step 5): `finalizing` files are rolled forward when their verified bytes are on disk (temp at
/// full size, or already renamed) and back to the start otherwise; `transferring` files return to
/// `queued` with their committed bytes; every waiting file's temp file is cut back to its
/// committed bytes (what lies beyond was never acknowledged and may be garbage after a power
/// loss), or its progress reset if the temp file holds less; transferring groups with nothing in
/// flight wait as `queued`. Idempotent.
struct TransferRecovery {
    let core: QueueCore

    func run() throws(QueueError) {
        let ledger = TransferLedger(core: core)
        let finalizing = try core.store.read { db throws(QueueError) in
            let statement = try db.statement("SELECT id, temp_path, local_path, bytes_total FROM files WHERE state = 'finalizing'")
            var rows: [(id: Int64, temp: String?, local: String, total: Int64?)] = []
            while try statement.step() {
                rows.append((statement.int64(0), statement.optionalText(1), statement.text(2), statement.optionalInt64(3)))
            }
            return rows
        }
        for file in finalizing {
            let temp = try file.temp.flatMap { path throws(QueueError) in try core.fileSystem.metadata(of: path) }
            if let path = file.temp, let temp, let total = file.total, temp.size == UInt64(total) {
                try core.fileSystem.rename(path, to: file.local)
                try core.fileSystem.fsyncDirectory(file.local.parentDirectory)
                try ledger.complete(file.id)
            } else if temp == nil, try core.fileSystem.kind(of: file.local) == .regular {
                try ledger.complete(file.id)
            } else {
                try core.store.write { db throws(QueueError) in
                    try db.statement("UPDATE files SET state = 'queued', bytes_done = 0, validator = NULL WHERE id = ?")
                        .bind(.integer(file.id)).run()
                }
            }
        }
        try core.store.write { db throws(QueueError) in
            try db.statement("UPDATE files SET state = 'queued' WHERE state = 'transferring'").run()
            try TransferLedger.requeueIdleGroups(db)
        }
        try trimTemps()
    }

    /// Cuts every waiting file's temp file back to its committed bytes.
    private func trimTemps() throws(QueueError) {
        let waiting = try core.store.read { db throws(QueueError) in
            let statement = try db.statement("""
                SELECT id, temp_path, bytes_done FROM files WHERE state IN ('queued', 'error') AND temp_path IS NOT NULL
                """)
            var rows: [(id: Int64, temp: String, done: UInt64)] = []
            while try statement.step() { rows.append((statement.int64(0), statement.text(1), UInt64(statement.int64(2)))) }
            return rows
        }
        for file in waiting {
            let size = try core.fileSystem.metadata(of: file.temp)?.size
            if let size, Mutant.trustTempLength.isActive, size > file.done {
                try setProgress(file.id, size)
            } else if let size, size > file.done {
                let temp = try core.fileSystem.open(file.temp, exclusive: false)
                defer { core.fileSystem.close(temp) }
                try core.fileSystem.truncate(temp, to: file.done)
                try core.fileSystem.fsync(temp)
            } else if (size ?? 0) < file.done {
                try setProgress(file.id, 0)
            }
        }
    }

    private func setProgress(_ fileRowID: Int64, _ bytes: UInt64) throws(QueueError) {
        try core.store.write { db throws(QueueError) in
            try db.statement("UPDATE files SET bytes_done = ?, validator = CASE WHEN ? = 0 THEN NULL ELSE validator END WHERE id = ?")
                .bind(.integer(Int64(bytes)), .integer(Int64(bytes)), .integer(fileRowID)).run()
        }
    }
}
