package api

import "net/http"

func (s *Server) createQRCode(w http.ResponseWriter, r *http.Request) error      { return errTODO }
func (s *Server) listQRCodes(w http.ResponseWriter, r *http.Request) error       { return errTODO }
func (s *Server) qrcodeInfo(w http.ResponseWriter, r *http.Request) error        { return errTODO }
func (s *Server) upsertQRCode(w http.ResponseWriter, r *http.Request) error      { return errTODO }
func (s *Server) bulkCreateQRCodes(w http.ResponseWriter, r *http.Request) error { return errTODO }
func (s *Server) bulkUpdateQRCodes(w http.ResponseWriter, r *http.Request) error { return errTODO }
func (s *Server) bulkDeleteQRCodes(w http.ResponseWriter, r *http.Request) error { return errTODO }
func (s *Server) getQRCode(w http.ResponseWriter, r *http.Request) error         { return errTODO }
func (s *Server) updateQRCode(w http.ResponseWriter, r *http.Request) error      { return errTODO }
func (s *Server) deleteQRCode(w http.ResponseWriter, r *http.Request) error      { return errTODO }
func (s *Server) qrcodeImage(w http.ResponseWriter, r *http.Request) error       { return errTODO }
func (s *Server) publicQR(w http.ResponseWriter, r *http.Request) error          { return errTODO }
