package web

import (
	"net/http"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/web/audit"
)

// consoleAPIRoutes are the admin API's routes for operators, their API
// tokens, the audit log, bulk import and export.
func (s *Server) consoleAPIRoutes() []route {
	none := http.StatusNoContent
	return []route{
		{method: "GET", path: "/api/v1/operators", access: token, perm: permRead, tag: "operators", summary: "List operators", resp: operatorList{}, status: 200, h: s.listOperators},
		{method: "POST", path: "/api/v1/operators", access: token, perm: permConfig, tag: "operators", summary: "Add an operator; the answer holds a one-time link to set a password", body: model.OperatorInput{}, resp: model.OperatorCreated{}, status: 201, h: s.createOperator},
		{method: "GET", path: "/api/v1/operators/{name}", access: token, perm: permRead, tag: "operators", summary: "Show an operator", resp: model.Operator{}, status: 200, h: s.getOperator},
		{method: "PATCH", path: "/api/v1/operators/{name}", access: token, perm: permConfig, tag: "operators", summary: "Change an operator's role", body: model.OperatorInput{}, resp: model.Operator{}, status: 200, h: s.updateOperator},
		{method: "POST", path: "/api/v1/operators/{name}/disable", access: token, perm: permConfig, tag: "operators", summary: "Disable an operator: their sessions end and their API tokens stop working", resp: model.Operator{}, status: 200, h: s.disableOperator},
		{method: "POST", path: "/api/v1/operators/{name}/enable", access: token, perm: permConfig, tag: "operators", summary: "Enable an operator", resp: model.Operator{}, status: 200, h: s.enableOperator},
		{method: "POST", path: "/api/v1/operators/{name}/reset-password", access: token, perm: permConfig, tag: "operators", summary: "Issue a new one-time set-password link", resp: model.OperatorCreated{}, status: 200, h: s.resetOperatorPassword},

		{method: "GET", path: "/api/v1/tokens", access: token, perm: permRead, tag: "operators", summary: "List API tokens (an admin sees all, others their own); never the tokens themselves", resp: tokenList{}, status: 200, h: s.listTokens},
		{method: "POST", path: "/api/v1/tokens", access: token, perm: permConfig, tag: "operators", summary: "Issue an API token for an operator, with the operator's role; the token is shown this once", body: model.TokenInput{}, resp: model.TokenCreated{}, status: 201, h: s.createToken},
		{method: "DELETE", path: "/api/v1/tokens/{id}", access: token, perm: permConfig, tag: "operators", summary: "Revoke an API token", status: none, h: s.revokeToken},

		{method: "GET", path: "/api/v1/audit", access: token, perm: activation.PermAudit, tag: "audit", summary: "The audit log, newest first (admins and auditors)",
			query: []param{{"actor", "an operator's name"}, {"action", "part of the action, such as DELETE or /accounts"}, {"target", "part of the target, such as account:1234567890"}, {"before", "only entries older than this id (paging)"}, {"cursor", "next_cursor or prev_cursor of a page: the page after or before it"}, {"limit", "at most 10000 (default 100)"}, {"format", "csv for a CSV export of every matching entry"}},
			resp:  auditList{}, status: 200, h: s.listAudit},

		{method: "POST", path: "/api/v1/imports", access: token, perm: permAccounts, tag: "import", summary: "Upload a CSV file (body: text/csv) and preview its import: every bad cell named, nothing imported yet",
			query: []param{{"group", "group of rows without one"}, {"profile", "profile of rows without one"}, {"send", "sms or email: send activations after the import"}, {"file_name", "the file's name, for the record"}},
			resp:  model.ImportPreview{}, status: 201, h: s.previewImport},
		{method: "GET", path: "/api/v1/imports", access: token, perm: permRead, tag: "import", summary: "List recent imports, newest first", query: []param{{"limit", "at most 1000 (default 50)"}, {"cursor", "next_cursor or prev_cursor of a page: the page after or before it"}}, resp: importList{}, status: 200, h: s.listImports},
		{method: "GET", path: "/api/v1/imports/{id}", access: token, perm: permRead, tag: "import", summary: "An import's progress", resp: model.ImportStatus{}, status: 200, h: s.getImport},
		{method: "GET", path: "/api/v1/imports/{id}/preview", access: token, perm: permRead, tag: "import", summary: "An import's preview again", resp: model.ImportPreview{}, status: 200, h: s.getImportPreview},
		{method: "POST", path: "/api/v1/imports/{id}/confirm", access: token, perm: permAccounts, tag: "import", summary: "Import the previewed file's valid new rows; confirming again resumes an interrupted import", resp: model.ImportStatus{}, status: 200, h: s.confirmImport},
		{method: "POST", path: "/api/v1/imports/{id}/cancel", access: token, perm: permAccounts, tag: "import", summary: "Drop a previewed import: nothing is imported", resp: model.ImportStatus{}, status: 200, h: s.cancelImport},
		{method: "POST", path: "/api/v1/imports/{id}/send", access: token, perm: permAccounts, tag: "import", summary: "Have the server go on now with a confirmed import's activations, which it sends by itself, and show its progress", query: []param{{"limit", "ignored, kept for older clients: the server sends by itself"}}, resp: model.ImportStatus{}, status: 200, h: s.sendImport},

		{method: "POST", path: "/api/v1/exports", access: token, perm: permRead, tag: "import", summary: "Start an export as a job (accounts, or the audit log for admins and auditors): its file is downloaded when it is done",
			body: model.ExportJobInput{}, resp: model.ExportJob{}, status: 202, h: s.startExport},
		{method: "GET", path: "/api/v1/exports/{id}", access: token, perm: permRead, tag: "import", summary: "An export job's progress", resp: model.ExportJob{}, status: 200, h: s.getExport},
		{method: "GET", path: "/api/v1/exports/{id}/file", access: token, perm: permRead, tag: "import", summary: "A done export job's file (CSV, ended by the Activator-Rows trailer)", status: 200, h: s.exportFile},
		{method: "GET", path: "/api/v1/export/accounts", access: token, perm: permRead, tag: "import", summary: "Accounts and their status as CSV (the import's columns first)",
			query: []param{{"group", "group name"}, {"status", "new, invited, opened, installed, activated or disabled"}, {"q", "words, each the start of a word of the name, username, number or e-mail (ada lov, lovelace@example)"}}, status: 200, h: s.exportAccounts},
	}
}

type (
	operatorList struct {
		Operators []model.Operator `json:"operators"`
	}
	tokenList struct {
		Tokens []model.APIToken `json:"tokens"`
	}
	auditList struct {
		Entries []model.AuditEntry `json:"entries"`
		model.Cursors
	}
	importList struct {
		Imports []model.ImportStatus `json:"imports"`
		model.Cursors
	}
)

// RouteInfo describes one route of the table, for tests and documentation.
type RouteInfo struct {
	Method, Path string
	Access       string // public, device or token
	Perm         string
}

// Routes lists the route table.
func (s *Server) Routes() []RouteInfo {
	out := make([]RouteInfo, len(s.routes))
	for i, rt := range s.routes {
		acc := map[access]string{public: "public", device: "device", token: "token"}[rt.access]
		out[i] = RouteInfo{Method: rt.method, Path: rt.path, Access: acc, Perm: rt.perm}
	}
	return out
}

// Auditor is the API's audit wrapper, for tests walking the route table.
func (s *Server) Auditor() *audit.Auditor { return s.audit }
