/// Makes the file system agree with the database when a queue is opened (DESIGN.md, Durability
/// step 5). Idempotent: running it twice changes nothing the second time.
///
/// Finishes what a cancel's post-commit clean-up did not get to: removes the temp files of
/// `discarded` files and completes the rename of files cancelled while `finalizing`; then clears
/// their `temp_path` so the work is not repeated.
struct Recovery {
    let core: QueueCore

    func run() throws(QueueError) {
        let effects = try core.store.read { db throws(QueueError) in
            let statement = try db.statement("""
                SELECT id, state, temp_path, local_path FROM files
                WHERE temp_path IS NOT NULL AND state IN ('retained', 'discarded')
                """)
            var effects: [FileEffect] = []
            while try statement.step() {
                let action: FileEffect.Action = statement.text(1) == FileState.retained.rawValue ? .finishRename : .removeTemp
                effects.append(FileEffect(fileRowID: statement.int64(0), action: action, tempPath: statement.text(2), localPath: statement.text(3)))
            }
            return effects
        }
        guard !effects.isEmpty else { return }
        let done = FileEffect.apply(effects, core: core)
        try core.store.write { db throws(QueueError) in
            let clear = try db.statement("UPDATE files SET temp_path = NULL WHERE id = ?")
            for id in done {
                try clear.bind(.integer(id))
                try clear.run()
                clear.reset()
            }
        }
        core.logger.info("recovery finished file clean-ups", metadata: ["files": "\(done.count)"])
    }
}
