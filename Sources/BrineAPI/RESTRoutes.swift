import BrineCore
import BrineMaster
import BrineWire
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import OrderedCollections

/// The REST API, modelled on salt-api (rest_cherrypy): `POST /login` for a
/// token (eauth), then `X-Auth-Token` on every call. Permissions are the
/// eauth user's ACL, checked on the master before anything is published.
struct RESTRoutes: Sendable {
    let master: MasterDaemon
    let jobs: JobCache
    let tokens: TokenStore
    let auth: ExternalAuth
    let throttle = LoginThrottle()

    func add(to router: Router<MasterRequestContext>) {
        router.post("login") { request, context in
            let body = try await Answer.body(request, context: context)
            let user = body["username"]?.pythonString ?? "", password = body["password"]?.pythonString ?? ""
            let eauth = body["eauth"]?.pythonString ?? "file"
            let address = context.remoteAddress?.ipAddress ?? "?"
            let keys = ["user:" + user, "address:" + address]
            guard !throttle.isBlocked(keys) else {
                return Answer.error("Too many failed logins: wait a minute", status: .tooManyRequests)
            }
            do {
                let acl = try await auth.authenticateOffThread(eauth: eauth, username: user, password: password)
                let session = tokens.issue(user: user, eauth: eauth, acl: acl)
                return Answer.json(["return": [["token": .string(session.token), "start": .float(session.start), "expire": .float(session.expire),
                                                "user": .string(user), "eauth": .string(eauth), "perms": acl.permissions]]])
            } catch ExternalAuth.Failure.unknownBackend(let name) {
                return Answer.error("eauth backend '\(name)' is not configured (external_auth has file and pam)", status: .unauthorized)
            } catch {
                throttle.recordFailure(keys)
                return Answer.error("Could not authenticate using provided credentials", status: .unauthorized)
            }
        }
        router.get("minions") { request, _ in
            try await authorized(request) { session in
                var all = OrderedDictionary<String, Value>()
                let reader = Self.grainsReader(session)
                for (id, grains) in try await master.minions() where reader(id, grains) { all[id] = grains }
                return Answer.json(["return": [.map(all)]])
            }
        }
        router.get("minions/:id") { request, context in
            try await authorized(request) { session in
                let id = context.parameters.get("id") ?? ""
                guard let found = try await master.minions().first(where: { $0.id == id }), Self.grainsReader(session)(found.id, found.grains)
                else { return Answer.error("No such minion", status: .notFound) }
                return Answer.json(["return": [[.init(stringLiteral: found.id): found.grains]]])
            }
        }
        router.get("jobs") { request, _ in
            try await authorized(request) { session in
                var listed = OrderedDictionary<String, Value>()
                for job in try jobs.jobs(limit: 100, user: Self.seesAllJobs(session) ? nil : session.user) { listed[job.jid] = Self.describe(job) }
                return Answer.json(["return": [.map(listed)]])
            }
        }
        router.get("jobs/:jid") { request, context in
            try await authorized(request) { session in
                // Another user's job is not there for this user (no hint that it exists).
                guard let job = try jobs.job(context.parameters.get("jid") ?? ""), Self.seesAllJobs(session) || job.user == session.user
                else { return Answer.error("No such job", status: .notFound) }
                var returns = OrderedDictionary<String, Value>()
                for ret in try jobs.returns(job.jid) { returns[ret.minion] = ret.value }
                var info = Self.describe(job).mapValue ?? [:]
                info["jid"] = .string(job.jid)
                info["Minions"] = .list(job.minions.map(Value.string))
                // Who has not returned, and why: the job never reached them, or no return yet.
                let delivery = try jobs.delivery(job.jid)
                var missing = OrderedDictionary<String, Value>()
                for id in job.minions where returns[id] == nil { missing[id] = .string(delivery[id] ?? "no_response") }
                info["Missing"] = .map(missing)
                return Answer.json(["info": [.map(info)], "return": [.map(returns)]])
            }
        }
        router.get("keys") { request, _ in
            try await authorized(request) { session in
                guard Self.allowed(session, "key.list") else { return Answer.error("not authorised: key.list needs @wheel", status: .forbidden) }
                let keys = master.keyStore
                return Answer.json(["return": [
                    "local": .list(["pem", "pub"].map { .string(master.keyFiles.name + "." + $0) }), "minions": .list(try await keys.list(.accepted).map(Value.string)),
                    "minions_pre": .list(try await keys.list(.pending).map(Value.string)),
                    "minions_rejected": .list(try await keys.list(.rejected).map(Value.string)),
                    "minions_denied": .list(try await keys.list(.denied).map(Value.string)),
                ]])
            }
        }
        // The token first: a stranger's body is not even read.
        router.post("keys") { request, context in
            try await authorized(request) { session in
                let answer = try await keyAction(try await Answer.body(request, context: context), session)
                await master.revokeUnaccepted()
                return answer
            }
        }
        router.post("/") { request, context in
            try await authorized(request) { session in await lowstate(try await Answer.body(request, context: context), session) }
        }
        router.get("events") { request, _ in
            try await authorized(request) { session in events(for: Self.seesAllJobs(session) ? nil : session.user) }
        }
    }

    /// Runs `body` for a request carrying a live token; 401 otherwise.
    func authorized(_ request: Request, _ body: (TokenStore.Session) async throws -> Response) async throws -> Response {
        guard let token = request.headers[.authToken], let session = tokens.session(token) else {
            return Answer.error("No valid token: log in with POST /login (tokens expire after token_expire seconds)", status: .unauthorized)
        }
        return try await body(session)
    }

    /// `@jobs` (as salt-api's jobs runner right): every user's jobs, returns and events; without it, one's own.
    static func seesAllJobs(_ session: TokenStore.Session) -> Bool {
        session.acl.grants("@jobs", user: session.user, groups: PeerUser.groups(of: session.user))
    }

    /// Whether a minion's grains are shown (minion id, its grains): to users
    /// who may read them there (`grains.items`), or who have `@jobs`. The
    /// user's groups and rights are looked up once per request.
    static func grainsReader(_ session: TokenStore.Session) -> (String, Value) -> Bool {
        let groups = PeerUser.groups(of: session.user)
        if session.acl.grants("@jobs", user: session.user, groups: groups) { return { _, _ in true } }
        let permission = session.acl.permission(user: session.user, groups: groups, fun: "grains.items", arguments: CallArguments())
        return { id, grains in
            permission.allows(minion: id) { rule, id in
                (try? Matcher(minionID: id, grains: grains == .emptyMap ? ["id": .string(id)] : grains, pillar: .emptyMap).compound(rule)) ?? false
            }
        }
    }

    static func allowed(_ session: TokenStore.Session, _ fun: String) -> Bool {
        session.acl.check(user: session.user, groups: PeerUser.groups(of: session.user), fun: fun, arguments: CallArguments(),
                          minions: [], matches: { _, _ in false }) == .allowed
    }

    static func describe(_ job: JobCache.Job) -> Value {
        ["Function": .string(job.fun), "Target": .string(job.target), "Target-type": .string(job.targetType),
         "Arguments": job.arguments["arg"] ?? [], "StartTime": .string(ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: job.started)))]
    }

    /// `{"match": ID, "action": "accept" | "reject" | "delete"}` (wheel's key functions).
    func keyAction(_ body: Value, _ session: TokenStore.Session) async throws -> Response {
        let action = body["action"]?.pythonString ?? "", id = body["match"]?.pythonString ?? ""
        guard ["accept", "reject", "delete"].contains(action), !id.isEmpty else {
            return Answer.error("give match (a minion id) and action: accept, reject or delete", status: .badRequest)
        }
        guard Self.allowed(session, "key.\(action)") else { return Answer.error("not authorised: key.\(action) needs @wheel", status: .forbidden) }
        let keys = master.keyStore
        // As salt-key: accept and reject act on pending keys; other states only when the
        // request names them. A denied key (an id that came back with another key) is
        // never accepted by accident: that would hand the real minion's jobs to an impostor.
        func flag(_ name: String) -> Bool { body[name]?.asFlag ?? false }
        let sources = KeyStore.sources(for: KeyStore.Action(rawValue: action) ?? .delete, includeRejected: flag("include_rejected"),
                                       includeDenied: flag("include_denied"), includeAccepted: flag("include_accepted"))
        var found: [KeyStore.Status] = []
        for status in sources where try await keys.contains(id, in: status) { found.append(status) }
        guard !found.isEmpty else {
            let where_ = action == "delete" ? "" : " among \(sources.map(\.rawValue).joined(separator: ", "))"
            return Answer.error("No key for \(id)\(where_)", status: .notFound)
        }
        switch action {
        case "accept": try await keys.move(id, from: found[0], to: .accepted)
        case "reject": try await keys.move(id, from: found[0], to: .rejected)
        default: for status in found { try await keys.delete(id, from: status) }
        }
        return Answer.json(["return": ["data": ["success": true, "return": [.init(stringLiteral: action): .list([.string(id)])]]]])
    }

    /// salt-api's lowstate: one chunk or a list; `client` local or local_async.
    func lowstate(_ body: Value, _ session: TokenStore.Session) async -> Response {
        var results: [Value] = []
        for chunk in body.listValue ?? [body] {
            let client = chunk["client"]?.pythonString ?? "local"
            guard client == "local" || client == "local_async" else {
                return Answer.error("client '\(client)' is not available (use local or local_async)", status: .badRequest)
            }
            guard let target = chunk["tgt"]?.stringValue, let fun = chunk["fun"]?.stringValue else {
                return Answer.error("a lowstate chunk needs tgt and fun", status: .badRequest)
            }
            let positional = chunk["arg"]?.listValue ?? (chunk["arg"].map { $0.isNull ? [] : [$0] } ?? [])
            let arguments = CallArguments(positional: positional, keyword: chunk["kwarg"]?.mapValue ?? [:])
            let type = chunk["tgt_type"]?.stringValue ?? chunk["expr_form"]?.stringValue ?? "glob"
            let outcome = await master.runJob(target: target, type: type, fun: fun, arguments: arguments,
                                              timeout: chunk["timeout"]?.doubleValue ?? master.opts.double("timeout") ?? 5,
                                              user: session.user, acl: session.acl, wait: client == "local")
            switch outcome {
            case .refused(let reason): return Answer.error(reason, status: .forbidden)
            case .failed(let reason): return Answer.error(reason, status: .badRequest)
            case .published(let jid, let minions):
                results.append(client == "local" ? .emptyMap : ["jid": .string(jid), "minions": .list(minions.map(Value.string))])
            case .returned(let jid, var returns, let missing):
                // As the CLI's --out json: every targeted minion is there, returned or named.
                for id in missing { returns[id] = .string(MissingReturn.noResponse.message(jid: jid)) }
                results.append(.map(returns))
            }
        }
        return Answer.json(["return": .list(results)])
    }

    /// Server-sent events: each job return as it reaches the job cache,
    /// `tag: salt/job/JID/ret/MINION` and the return as `data`.
    /// - Parameter user: only returns of this user's jobs (nil: all).
    func events(for user: String?) -> Response {
        let jobs = self.jobs
        let body = ResponseBody { writer in
            var last = (try? jobs.lastReturnRowID()) ?? 0
            try await writer.write(ByteBuffer(string: "retry: 400\n\n"))
            while !Task.isCancelled {
                for ret in (try? jobs.returns(after: last)) ?? [] {
                    last = ret.rowid
                    if let user, ret.user != user { continue }
                    let tag = "salt/job/\(ret.jid)/ret/\(ret.minion)"
                    let data: Value = ["tag": .string(tag), "data": ["jid": .string(ret.jid), "id": .string(ret.minion), "fun": .string(ret.fun),
                                                                     "return": ret.value, "retcode": .int(ret.retcode), "success": .bool(ret.retcode == 0)]]
                    try await writer.write(ByteBuffer(string: "tag: \(tag)\ndata: \(JSON.encode(data, indent: nil))\n\n"))
                }
                try await Task.sleep(nanoseconds: 200_000_000)
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }
}
