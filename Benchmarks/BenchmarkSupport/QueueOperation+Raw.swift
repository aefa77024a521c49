import BackgroundCopy

extension QueueOperation {
    /// One sample of the operation as raw SQL: the same statements the library issues.
    func raw(_ queue: RawQueue, _ subject: Subject) -> Step {
        let groups = RawGroupOperations(queue)
        let files = RawFileOperations(queue)
        let engine = RawEngineOperations(queue)
        switch self {
        case .createGroup:
            return Step(run: { groups.createGroup(displayName: "benchmark") })
        case .addFiles1, .addFiles100:
            var batch: [FileSpec] = []
            let count = self == .addFiles1 ? 1 : 100
            return Step(
                prepare: { batch = subject.names.specs(count) },
                run: { files.addFiles(batch, to: subject.job, in: subject.group) })
        case .resume:
            return Step(prepare: { groups.suspend(subject.group) }, run: { groups.resume(subject.group) })
        case .status:
            return Step(run: { _ = groups.status(subject.group) })
        case .progress:
            return Step(run: { _ = groups.progress(subject.group) })
        case .claimNextFile:
            var claimed: Int64 = 0
            return Step(
                run: { claimed = engine.claimNextFile()!.fileRowID },
                finish: {
                    engine.beginFinalizing(claimed, bytesTotal: 65536)
                    engine.complete(claimed)
                })
        case .checkpoint:
            let file = subject.claimedFile!
            var bytes: Int64 = 0
            return Step(prepare: { bytes += 65536 }, run: { engine.checkpoint(file, bytesDone: bytes) })
        case .completeFile:
            var claimed: Int64 = 0
            return Step(
                prepare: {
                    claimed = engine.claimNextFile()!.fileRowID
                    engine.beginFinalizing(claimed, bytesTotal: 65536)
                },
                run: { engine.complete(claimed) })
        case .cancel100:
            var doomed = GroupID()
            return Step(
                prepare: {
                    doomed = GroupID()
                    let job = JobID()
                    groups.createGroup(id: doomed.uuid, displayName: "benchmark")
                    files.createJob(job, in: doomed)
                    files.addFiles(subject.names.specs(100), to: job, in: doomed)
                },
                run: { groups.cancel(doomed) })
        case .enumerate:
            return Step(run: { _ = groups.groups() })
        }
    }
}
