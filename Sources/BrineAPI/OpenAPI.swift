import BrineCore
import OrderedCollections

/// The OpenAPI 3.0 description of the master's HTTP port, served at
/// `/openapi.json`; the tests validate real answers against its schemas.
enum OpenAPI {
    static func object(_ properties: OrderedDictionary<String, Value>, required: [String] = [], additional: Value? = nil) -> Value {
        var schema: OrderedDictionary<String, Value> = ["type": "object", "properties": .map(properties)]
        if !required.isEmpty { schema["required"] = .list(required.map(Value.string)) }
        if let additional { schema["additionalProperties"] = additional }
        return .map(schema)
    }

    static func array(_ items: Value) -> Value { ["type": "array", "items": items] }
    static func ref(_ name: String) -> Value { ["$ref": .string("#/components/schemas/\(name)")] }
    static let string: Value = ["type": "string"]
    static let number: Value = ["type": "number"]
    static let integer: Value = ["type": "integer"]
    static let boolean: Value = ["type": "boolean"]
    static let any: Value = [:]

    static func answer(_ schema: Value, _ description: String = "OK") -> Value {
        ["description": .string(description), "content": ["application/json": ["schema": schema]]]
    }

    static let errors: OrderedDictionary<String, Value> = [
        "400": answer(ref("Error"), "Bad request"), "401": answer(ref("Error"), "No valid token"),
        "403": answer(ref("Error"), "Not authorised"), "404": answer(ref("Error"), "Not found"),
    ]

    static func operation(_ summary: String, _ schema: Value, body: Value? = nil, token: Bool = true) -> Value {
        var op: OrderedDictionary<String, Value> = ["summary": .string(summary)]
        var responses: OrderedDictionary<String, Value> = ["200": answer(schema)]
        for (code, value) in errors { responses[code] = value }
        op["responses"] = .map(responses)
        if let body { op["requestBody"] = ["required": true, "content": ["application/json": ["schema": body]]] }
        if token { op["security"] = [["token": []]] }
        return .map(op)
    }

    static let check = object([
        "_id": string, "name": string, "type": ["type": "string", "enum": ["http", "https", "tcp"]], "url": string,
        "interval": integer, "maxTime": integer, "alertTreshold": integer, "errorCount": integer, "tags": array(string),
        "isPaused": boolean, "isUp": ["type": "boolean", "nullable": true], "lastChanged": ["type": "string", "nullable": true],
        "firstTested": ["type": "string", "nullable": true], "lastTested": ["type": "string", "nullable": true],
        "uptime": integer, "downtime": integer, "qos": ["type": "number", "nullable": true],
    ], required: ["_id", "name", "type", "url", "interval", "maxTime", "alertTreshold", "isPaused", "isUp", "tags"])

    static let ping = object([
        "check": string, "timestamp": string, "isUp": boolean, "isResponsive": boolean, "time": integer,
        "status": ["type": "integer", "nullable": true], "error": ["type": "string", "nullable": true],
    ], required: ["check", "timestamp", "isUp", "isResponsive", "time"])

    static let checkFields = object(["url": string, "name": string, "interval": number, "maxTime": integer, "alertTreshold": integer,
                                     "isPaused": boolean, "tags": any, "type": string])

    static let document: Value = [
        "openapi": "3.0.3",
        "info": ["title": "Brine master HTTP API", "version": .string(Brine.version),
                 "description": "salt-api style REST API (POST /login, then X-Auth-Token), the uptime app's monitor routes under /api, statistics and metrics."],
        "components": [
            "securitySchemes": ["token": ["type": "apiKey", "in": "header", "name": "X-Auth-Token"]],
            "schemas": [
                "Error": object(["error": string], required: ["error"]),
                "Login": object(["username": string, "password": string, "eauth": string], required: ["username", "password"]),
                "LoginAnswer": object(["return": array(object(["token": string, "start": number, "expire": number, "user": string,
                                                              "eauth": string, "perms": array(any)],
                                                             required: ["token", "start", "expire", "user", "eauth", "perms"]))], required: ["return"]),
                "Minions": object(["return": array(object([:], additional: ["type": "object"]))], required: ["return"]),
                "Jobs": object(["return": array(object([:], additional: object(["Function": string, "Target": string, "Target-type": string,
                                                                               "Arguments": array(any), "StartTime": string],
                                                                              required: ["Function", "Target", "StartTime"])))], required: ["return"]),
                "Job": object(["info": array(object(["jid": string, "Function": string, "Minions": array(string),
                                                     "Missing": object([:], additional: string)], required: ["jid", "Function", "Minions", "Missing"])),
                               "return": array(object([:]))], required: ["info", "return"]),
                "Keys": object(["return": object(["local": array(string), "minions": array(string), "minions_pre": array(string),
                                                  "minions_rejected": array(string), "minions_denied": array(string)],
                                                 required: ["minions", "minions_pre", "minions_rejected", "minions_denied"])], required: ["return"]),
                "KeyAction": object(["match": string, "action": ["type": "string", "enum": ["accept", "reject", "delete"]]], required: ["match", "action"]),
                "KeyAnswer": object(["return": object(["data": object(["success": boolean], required: ["success"])])], required: ["return"]),
                "Lowstate": object(["client": ["type": "string", "enum": ["local", "local_async"]], "tgt": string, "tgt_type": string,
                                    "fun": string, "arg": array(any), "kwarg": ["type": "object"], "timeout": number], required: ["tgt", "fun"]),
                "LowstateAnswer": object(["return": array(["type": "object"])], required: ["return"]),
                "Check": check, "CheckFields": checkFields, "Ping": ping,
                "CheckCount": object(["up": integer, "down": integer, "paused": integer, "total": integer], required: ["up", "down", "paused", "total"]),
                "Stats": object(["since": string, "minions": ["type": "object"], "most_failing": array(any), "most_changing": array(any),
                                 "slowest": array(any), "days": array(any)], required: ["since", "minions", "days"]),
            ],
        ],
        "paths": [
            "/login": ["post": operation("Log in (eauth); returns a token", ref("LoginAnswer"), body: ref("Login"), token: false)],
            "/minions": ["get": operation("Accepted minions and their grains", ref("Minions"))],
            "/minions/{id}": ["get": operation("One minion's grains", ref("Minions"))],
            "/jobs": ["get": operation("Recent jobs from the job cache", ref("Jobs"))],
            "/jobs/{jid}": ["get": operation("A job and its returns", ref("Job"))],
            "/keys": ["get": operation("Minion keys by state (@wheel)", ref("Keys")),
                      "post": operation("Accept, reject or delete a key (@wheel)", ref("KeyAnswer"), body: ref("KeyAction"))],
            "/": ["post": operation("Run lowstate chunks (client local or local_async)", ref("LowstateAnswer"), body: ref("Lowstate"))],
            "/events": ["get": ["summary": "Job returns as server-sent events", "security": [["token": []]],
                                "responses": ["200": ["description": "text/event-stream"]]]],
            "/metrics": ["get": ["summary": "Prometheus text exposition", "responses": ["200": ["description": "text/plain"]]]],
            "/api/checks": ["get": operation("Monitoring checks", array(ref("Check")), token: false),
                            "put": operation("Create a check", ref("Check"), body: ref("CheckFields"), token: false)],
            "/api/checks/count": ["get": operation("Checks up, down, paused", ref("CheckCount"), token: false)],
            "/api/checks/{id}": ["get": operation("One check", ref("Check"), token: false),
                                 "post": operation("Update a check", ref("Check"), body: ref("CheckFields"), token: false),
                                 "delete": operation("Remove a check and its pings", object(["_id": string, "deleted": boolean]), token: false)],
            "/api/checks/{id}/pings": ["get": operation("A check's latest polls", array(ref("Ping")), token: false)],
            "/api/pings": ["get": operation("Latest polls", array(ref("Ping")), token: false)],
            "/api/stats": ["get": operation("State-run statistics (?since=7d)", ref("Stats"), token: false)],
        ],
    ]
}
