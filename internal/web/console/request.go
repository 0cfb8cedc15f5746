package console

import (
	"net/http"
	"strconv"

	"github.com/activator-voip/activator/internal/activation"
)

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return 0, &activation.Error{Kind: activation.KindNotFound, Code: "not_found", Message: "no such page"}
	}
	return id, nil
}

// --- import
