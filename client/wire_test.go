package client

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/model"
)

// TestWireFormat checks that the client's own types carry the device
// contract's JSON exactly as the server's internal model writes and reads it:
// every member, in the same order, with the same omissions. A member the
// server gains makes this fail until the client (and docs/protocol.md) knows it.
func TestWireFormat(t *testing.T) {
	for _, c := range []struct {
		name     string
		from, to any // from is encoded, decoded into to, and to encoded again
	}{
		{"redeem answer", &model.RedeemResponse{}, &redeemResponse{}},
		{"configuration", &model.DeviceConfig{}, &DeviceConfig{}},
		{"error answer", &model.ErrorBody{}, &errorBody{}},
		{"redeem request", &redeemRequest{}, &model.RedeemRequest{}},
	} {
		for _, filled := range []bool{false, true} {
			from := reflect.New(reflect.TypeOf(c.from).Elem())
			if filled {
				n := 0
				fill(from.Elem(), &n)
			}
			want, err := json.Marshal(from.Interface())
			if err != nil {
				t.Fatal(err)
			}
			to := reflect.New(reflect.TypeOf(c.to).Elem()).Interface()
			dec := json.NewDecoder(bytes.NewReader(want))
			dec.DisallowUnknownFields()
			if err := dec.Decode(to); err != nil {
				t.Errorf("%s (filled %v): %T cannot read %T: %v", c.name, filled, to, from.Interface(), err)
				continue
			}
			got, err := json.Marshal(to)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s (filled %v): %T writes\n%s\nwant, as %T writes it,\n%s", c.name, filled, to, got, from.Interface(), want)
			}
		}
	}
}

// fill sets every exported field reachable from v to a value that is not
// zero and differs from its neighbours, so no member can hide behind omitempty.
func fill(v reflect.Value, n *int) {
	*n++
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("v%d", *n))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(*n))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(*n))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(*n) + 0.5)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), n)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fill(v.Index(i), n)
		}
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		for range 2 {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			fill(k, n)
			fill(e, n)
			v.SetMapIndex(k, e)
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2026, 3, 2, 9, 15, *n, 0, time.UTC)))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), n)
			}
		}
	}
}
