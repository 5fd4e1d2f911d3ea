import BrineCore
import Foundation
import Glibc
import Testing

/// Issue 19, the minion's side: two masters sharing the cluster's key pair
/// (`cluster_pki_dir`), a minion given both (`master: [a, b]`). The master
/// it talks to is killed with SIGKILL: it moves to the other, which it
/// trusts because the pinned key is the cluster's; the first comes back:
/// `master_failback` takes it there again.
@Suite(.serialized) struct MasterFailoverTests {
    let root = tempDir()
    let ports = [testPort(), testPort()]

    func configure() throws {
        for (name, port) in zip(["a", "b"], ports) {
            try FileManager.default.createDirectory(atPath: root + "/" + name, withIntermediateDirectories: true)
            try """
                interface: 127.0.0.1
                ret_port: \(port)
                root_dir: \(root)/\(name)
                cluster_id: test
                cluster_pki_dir: \(root)/cluster
                auto_accept: True

                """.write(toFile: root + "/\(name)/master", atomically: true, encoding: .utf8)
        }
        try FileManager.default.createDirectory(atPath: root + "/minion", withIntermediateDirectories: true)
        try """
            id: roamer
            master: [127.0.0.1:\(ports[0]), 127.0.0.1:\(ports[1])]
            master_type: failover
            master_failback: True
            master_failback_interval: 1
            root_dir: \(root)/minion
            acceptance_wait_time: 0.5

            """.write(toFile: root + "/minion/minion", atomically: true, encoding: .utf8)
    }

    func ping(_ master: String) throws -> Run {
        try brine(["roamer", "test.ping", "--out", "txt", "-t", "5"], environment: ["BRINE_CONFIG_DIR": root + "/" + master])
    }

    @Test func failoverToTheOtherMasterAndBack() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        try configure()
        var first = try Daemon(["master", "-c", root + "/a"], log: root + "/a.log")
        defer { first.stop() }
        // The first master makes the cluster's pair; the second reads the same files.
        #expect(eventually(20) { FileManager.default.fileExists(atPath: root + "/cluster/cluster.pub") })
        let second = try Daemon(["master", "-c", root + "/b"], log: root + "/b.log")
        defer { second.stop() }
        let minion = try Daemon(["minion", "-c", root + "/minion"], log: root + "/minion.log")
        defer { minion.stop() }
        #expect(try eventually(30) { try ping("a").stdout == "roamer: True\n" }, "\(minion.output)")
        let fingerprints = try brine(["key", "-F"], environment: ["BRINE_CONFIG_DIR": root + "/a"])
        #expect(fingerprints.stdout.contains("cluster.pub:"), "\(fingerprints.stdout)")
        #expect(try String(contentsOfFile: root + "/minion/etc/brine/pki/minion/minion_master.pub", encoding: .utf8)
            == String(contentsOfFile: root + "/cluster/cluster.pub", encoding: .utf8))

        kill(first.process.processIdentifier, SIGKILL)
        first.process.waitUntilExit()
        #expect(try eventually(30) { try ping("b").stdout == "roamer: True\n" }, "\(minion.output)")
        #expect(minion.output.contains("lost the master at 127.0.0.1:\(ports[0]); trying the next"), "\(minion.output)")

        first = try Daemon(["master", "-c", root + "/a"], log: root + "/a2.log")
        #expect(try eventually(30) { try ping("a").stdout == "roamer: True\n" }, "\(minion.output)")
        #expect(minion.output.contains("the first master 127.0.0.1:\(ports[0]) is back: moving to it"), "\(minion.output)")
        #expect(try ping("b").stdout.contains("Minion did not return"), "the minion talks to one master at a time")
    }

    /// `master_alive_interval`: the minion checks every interval that its
    /// master still takes connections and moves on when it does not, even
    /// though its own connection was never closed (a host gone from the
    /// network, a partition; a killed master on loopback closes its
    /// connections at once, the case above). The first master is reached
    /// through a relay which stops taking connections while the minion's
    /// connection through it stays open.
    @Test func aMasterThatStopsAnsweringIsLeftAfterTheAliveInterval() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        try configure()
        let first = try Daemon(["master", "-c", root + "/a"], log: root + "/a.log")
        defer { first.stop() }
        #expect(eventually(20) { FileManager.default.fileExists(atPath: root + "/cluster/cluster.pub") })
        let second = try Daemon(["master", "-c", root + "/b"], log: root + "/b.log")
        defer { second.stop() }
        let relay = try TCPRelay(target: ports[0])
        defer { relay.stop() }
        try """
            id: roamer
            master: [127.0.0.1:\(relay.port), 127.0.0.1:\(ports[1])]
            master_type: failover
            master_alive_interval: 1
            root_dir: \(root)/minion
            acceptance_wait_time: 0.5

            """.write(toFile: root + "/minion/minion", atomically: true, encoding: .utf8)
        let minion = try Daemon(["minion", "-c", root + "/minion"], log: root + "/minion.log")
        defer { minion.stop() }
        #expect(try eventually(30) { try ping("a").stdout == "roamer: True\n" }, "\(minion.output)")

        relay.stopListening()
        #expect(try eventually(30) { try ping("b").stdout == "roamer: True\n" }, "\(minion.output)")
        #expect(minion.output.contains("lost the master at 127.0.0.1:\(relay.port) (not answering); trying the next"), "\(minion.output)")
        #expect(try ping("a").stdout.contains("Minion did not return"), "the minion left the first master")
    }
}
