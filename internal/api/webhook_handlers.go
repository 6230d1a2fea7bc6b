package api

import "net/http"

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) error       { return errTODO }
func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) error        { return errTODO }
func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request) error          { return errTODO }
func (s *Server) updateWebhook(w http.ResponseWriter, r *http.Request) error       { return errTODO }
func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) error       { return errTODO }
func (s *Server) testWebhook(w http.ResponseWriter, r *http.Request) error         { return errTODO }
func (s *Server) rotateWebhookSecret(w http.ResponseWriter, r *http.Request) error { return errTODO }
func (s *Server) webhookSecret(w http.ResponseWriter, r *http.Request) error       { return errTODO }
func (s *Server) enableWebhook(w http.ResponseWriter, r *http.Request) error       { return errTODO }
func (s *Server) disableWebhook(w http.ResponseWriter, r *http.Request) error      { return errTODO }
func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request) error      { return errTODO }
