import BrineCluster
import Testing

@testable import BrineMaster

/// A master's knowledge of whom each cluster job was sent to: it decides
/// which returns are stored and what a minion that connects is sent, so a
/// job known in part must never pass for a whole one.
@Suite struct ClusterJobBookTests {
    func read(_ jid: String, _ batches: [(Int, [String])]) -> ClusterDatabase.JobBatches {
        var read = ClusterDatabase.JobBatches(jid: jid, payload: [1, 2, 3], expires: 100)
        read.batches = batches.map { (seq: $0.0, minions: $0.1) }
        return read
    }

    @Test func batchesExtendAJobOnlyWithNothingBetween() {
        var book = ClusterJobBook()
        // Read from the middle of a job never seen: the first batches are missing, nothing is kept.
        #expect(book.learn(read("j1", [(2, ["c"])]), readAfter: 1) == nil)
        #expect(book.jobs["j1"] == nil)
        #expect(book.readFrom("j1") == -1)

        #expect(book.learn(read("j1", [(0, ["a"]), (1, ["b"])]), readAfter: -1)?.targets == ["a", "b"])
        #expect(book.readFrom("j1") == 1)
        // The next batch, read from just after the last one learnt.
        #expect(book.learn(read("j1", [(2, ["c"])]), readAfter: 1)?.targets == ["a", "b", "c"])
        // Read again from earlier (another reader's overlap): nothing twice, nothing lost.
        #expect(book.learn(read("j1", [(1, ["b"]), (2, ["c"])]), readAfter: 0)?.targets == ["a", "b", "c"])
        // Read from past what is known (batch 3 unseen): not merged.
        #expect(book.learn(read("j1", [(4, ["e"])]), readAfter: 3) == nil)
        #expect(book.jobs["j1"]?.targets == ["a", "b", "c"])
        #expect(book.jobs["j1"]?.seq == 2)
    }

    @Test func theJobsLearntFirstAreForgottenPastTheBound() {
        var book = ClusterJobBook(maximumNames: 25)
        let ten = { (prefix: String) in (0..<10).map { "\(prefix)\($0)" } }
        book.learn(read("j1", [(0, ten("a"))]), readAfter: -1)
        book.learn(read("j2", [(0, ten("b"))]), readAfter: -1)
        #expect(book.jobs.count == 2)
        book.learn(read("j3", [(0, ten("c"))]), readAfter: -1)
        #expect(book.jobs["j1"] == nil && book.jobs["j2"] != nil && book.jobs["j3"] != nil)
        // A job larger than the bound is kept (the one just learnt), the others go.
        book.learn(read("big", [(0, (0..<40).map { "m\($0)" })]), readAfter: -1)
        #expect(Set(book.jobs.keys) == ["big"])
        // Forgotten is read again from its first batch.
        #expect(book.readFrom("j1") == -1)
    }

    @Test func onlyExpiredJobsAreForgotten() {
        var book = ClusterJobBook()
        var old = read("old", [(0, ["a"])])
        old.expires = 50
        book.learn(old, readAfter: -1)
        book.learn(read("new", [(0, ["b"])]), readAfter: -1)
        book.dispatched("old", through: 0, expires: 50)
        book.dispatched("new", through: 0, expires: 100)
        book.publishing(.init(jid: "old", seq: 0), local: ["a"], expires: 50)
        book.publishing(.init(jid: "new", seq: 0), local: ["b"], expires: 100)
        // A job published while the sweep read the unexpired ones (not among them yet) is
        // kept: forgetting goes by each job's own expiry, not by that list.
        book.publishing(.init(jid: "newer", seq: 0), local: ["c"], expires: 200)
        book.forgetExpired(now: 60)
        #expect(Set(book.jobs.keys) == ["new"])
        #expect(book.dispatched == ["new": 0])
        #expect(Set(book.sentByPublisher.keys) == [.init(jid: "new", seq: 0), .init(jid: "newer", seq: 0)])
        // Taken once: the publisher's own hint leaves those minions out, a later one does not.
        #expect(book.takeSentByPublisher(.init(jid: "newer", seq: 0)) == ["c"])
        #expect(book.takeSentByPublisher(.init(jid: "newer", seq: 0)).isEmpty)
        // The bound counts what is left: a later job fits.
        book.learn(read("next", [(0, ["c"])]), readAfter: -1)
        #expect(book.jobs.count == 2)
    }
}
