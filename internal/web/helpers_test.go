package web_test

import (
	"strconv"
	"time"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/model"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func waitABit() { time.Sleep(100 * time.Millisecond) }

// tester is who the tests read the domain as, in the default organisation.
var tester = activation.Caller{Name: "test", OrgID: model.DefaultOrgID}
